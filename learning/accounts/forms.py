"""Sign-in form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Length


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
