"""Token forms for agency managers."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    """Name a new token after the system that will use it."""

    name = StringField(_l("Name (the system that will use it)"),
                       validators=[DataRequired(), Length(max=100)])
    valid_for = SelectField(_l("Works for"), coerce=int, default=365, choices=[
        SelectChoice(30, _l("30 days")), SelectChoice(90, _l("90 days")),
        SelectChoice(180, _l("180 days")), SelectChoice(365, _l("1 year"))])
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(FlaskForm):
    """A revoke button (the form exists for its CSRF token)."""

    submit = SubmitField(_l("Revoke"))
