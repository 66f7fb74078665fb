"""Admin forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class CertificateSearchForm(FlaskForm):
    """Find a certificate by its code (never by name: codes are what people present)."""

    class Meta:
        csrf = False  # a GET search changes nothing

    code = StringField(_l("Certificate code"), validators=[DataRequired(), Length(max=64)])


class RevokeForm(FlaskForm):
    """Revoke with a reason, which stays in the record and is never shown publicly."""

    reason = TextAreaField(_l("Reason (kept in the record, never shown publicly)"),
                           validators=[DataRequired(), Length(min=5, max=2000)])
    submit = SubmitField(_l("Revoke this certificate"))
