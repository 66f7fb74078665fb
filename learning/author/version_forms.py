"""Forms for course versions: roll back, and upload and confirm a course zip."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from learning.core.inputs import MAX_INT64


class RollbackForm(FlaskForm):
    """Confirms a rollback (CSRF only: the version is in the address)."""

    submit = SubmitField(_l("Publish this content as a new version"))


class ZipUploadForm(FlaskForm):
    """A zip holding courses/<course>/... and quizzes/<course>/... of one course."""

    archive = FileField(_l("Course zip (at most 5 MB)"),
                        validators=[FileRequired(_l("Choose a zip file to upload."))],
                        render_kw={"accept": ".zip,application/zip"})
    submit = SubmitField(_l("Check"))


class ConfirmZipForm(FlaskForm):
    """Confirms the upload the preview showed, named by its id and SHA-256."""

    pending_id = IntegerField(widget=HiddenInput(),
                              validators=[InputRequired(), NumberRange(min=1, max=MAX_INT64)])
    sha256 = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    submit = SubmitField(_l("Publish"))
