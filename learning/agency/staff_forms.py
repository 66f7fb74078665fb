"""Staff forms: upload and confirm an import, account buttons, and setting a password."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from learning.accounts.service import MIN_PASSWORD_LENGTH
from learning.core.inputs import MAX_INT64


class StaffUploadForm(FlaskForm):
    """A CSV file (commas or semicolons) with the columns email, name and unit."""

    file = FileField(_l("Staff file (CSV, UTF-8, at most 5 MB)"),
                     validators=[FileRequired(_l("Choose a file to upload."))],
                     render_kw={"accept": ".csv,text/csv"})
    submit = SubmitField(_l("Preview"))


class ConfirmImportForm(FlaskForm):
    """Confirms the upload the preview showed, named by its id and SHA-256."""

    pending_id = IntegerField(widget=HiddenInput(),
                              validators=[InputRequired(), NumberRange(min=1, max=MAX_INT64)])
    sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    create_units = BooleanField(_l("Create the units listed above"))
    submit = SubmitField(_l("Import"))


class StaffActionForm(FlaskForm):
    """An empty form for the invite, deactivate and reactivate buttons (CSRF only)."""

    submit = SubmitField()


class SetPasswordForm(FlaskForm):
    """The officer's new password, typed twice."""

    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=1024), Length(min=MIN_PASSWORD_LENGTH, message=_l(
            "The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH})
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), Length(max=1024),
                    EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Set password"))
