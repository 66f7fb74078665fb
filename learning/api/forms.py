"""Token forms for agency managers."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    """Name a new token after the system that will use it."""

    name = StringField(_l("Name (the system that will use it)"),
                       validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(FlaskForm):
    """A revoke button (the form exists for its CSRF token)."""

    submit = SubmitField(_l("Revoke"))
