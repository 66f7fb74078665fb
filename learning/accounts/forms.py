"""Sign-in, second-factor and password forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from learning.accounts.service import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    """Email and password, with an optional 'remember me' on personal devices."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField(validators=[Length(max=2000)])
    submit = SubmitField(_l("Sign in"))


class LogoutForm(FlaskForm):
    """An empty form: signing out is a POST so a link elsewhere cannot sign anyone out."""

    submit = SubmitField(_l("Sign out"))


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    """The new password, typed twice (shared by the change and reset forms)."""
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=1024), Length(min=MIN_PASSWORD_LENGTH, message=_l(
            "The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH})
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})
    return new, confirm


class ForgotPasswordForm(FlaskForm):
    """The email of the account whose password was forgotten."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    submit = SubmitField(_l("Send me a reset link"))


class ResetPasswordForm(FlaskForm):
    """A new password chosen through a reset link."""

    password, confirm = _new_password_fields()
    submit = SubmitField(_l("Set new password"))


class ChangePasswordForm(FlaskForm):
    """The current password, then the new one twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)],
                            render_kw={"autocomplete": "current-password"})
    password, confirm = _new_password_fields()
    submit = SubmitField(_l("Change password"))
class SecondFactorForm(FlaskForm):
    """A code from the authenticator app, or one of the recovery codes."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                                  "spellcheck": "false"})
    next = HiddenField()
    submit = SubmitField(_l("Continue"))


class EnrolForm(FlaskForm):
    """The first code from the authenticator app, which turns the second factor on."""

    code = StringField(_l("Code from the app"), validators=[DataRequired(), Length(max=16)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Turn on"))


def _zone_field(label, description) -> StringField:
    """An IANA zone name, typed or picked from the page's list of common zones."""
    return StringField(label, description=description, validators=[Length(max=64)],
                       filters=[lambda value: (value or "").strip()],
                       render_kw={"list": "time-zones", "autocomplete": "off",
                                  "autocapitalize": "none", "spellcheck": "false"})


class TimeZoneForm(FlaskForm):
    """The zone a user reads times in; empty means their agency's."""

    time_zone = _zone_field(_l("Time zone"), _l(
        "An IANA name such as Europe/Paris. Leave empty to use your agency's."))
    submit = SubmitField(_l("Save time zone"))


class AgencyTimeZoneForm(FlaskForm):
    """The zone an agency's people read times in, unless they chose their own."""

    time_zone = _zone_field(_l("Agency time zone"), _l(
        "An IANA name such as Europe/Paris. Officers may choose their own."))
    submit = SubmitField(_l("Save time zone"))
