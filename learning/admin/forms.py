"""Admin forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
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


class AgencyForm(FlaskForm):
    """A new agency."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Short name for addresses (lower-case-with-hyphens)"),
                       validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(_l("Create agency"))


class UnitForm(FlaskForm):
    """A new unit in an agency."""

    name = StringField(_l("Unit name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[
        SelectChoice("post", _l("Post")), SelectChoice("station", _l("Station")),
        SelectChoice("office", _l("Office")), SelectChoice("unit", _l("Unit"))])
    submit = SubmitField(_l("Add unit"))


class JurisdictionForm(FlaskForm):
    """The agency's jurisdiction (empty: its officers read the general text only)."""

    jurisdiction = SelectField(_l("Jurisdiction"))
    submit = SubmitField(_l("Save jurisdiction"))


class RoleForm(FlaskForm):
    """A user's role, agency and unit."""

    role = SelectField(_l("Role"), choices=[
        SelectChoice("officer", _l("Officer")), SelectChoice("trainer", _l("Trainer")),
        SelectChoice("manager", _l("Agency manager")),
        SelectChoice("admin", _l("Administrator"))])
    agency_id = SelectField(_l("Agency"), coerce=int)
    unit_id = SelectField(_l("Unit (managers: leave empty to see the whole agency)"),
                          coerce=int)
    submit = SubmitField(_l("Save"))


class NewUserForm(FlaskForm):
    """A new account; its owner chooses the password through an e-mailed link."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Name as printed on certificates"),
                               validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=RoleForm.role.kwargs["choices"])
    agency_id = SelectField(_l("Agency (required for officers and managers)"), coerce=int)
    unit_id = SelectField(_l("Unit (optional)"), coerce=int)
    submit = SubmitField(_l("Create account and e-mail a set-password link"))


class ActiveForm(FlaskForm):
    """Deactivate or reactivate an account (the form exists for its CSRF token)."""

    deactivate = SubmitField(_l("Deactivate and sign out everywhere"))
    reactivate = SubmitField(_l("Reactivate"))


class IssuerForm(FlaskForm):
    """Who issues certificates: printed on every certificate issued from now on."""

    issuer_name = StringField(_l("Issuing agency or instance name (printed at the top)"),
                              validators=[Length(max=200)])
    signatory_name = StringField(_l("Signatory's name (optional)"),
                                 validators=[Length(max=120)])
    signatory_title = StringField(_l("Signatory's title (optional)"),
                                  validators=[Length(max=200)])
    submit = SubmitField(_l("Save certificate settings"))


class ResetLinkForm(FlaskForm):
    """A button that e-mails the user a password-reset link (the admin never sees it)."""

    submit = SubmitField(_l("E-mail a password reset link to this user"))
class MfaResetForm(FlaskForm):
    """A button (the form exists for its CSRF token)."""

    submit = SubmitField(_l("Reset second factor and sign out everywhere"))
