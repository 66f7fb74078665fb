"""Buttons that start jobs: CSRF-protected, each carrying a one-use idempotency token."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, SubmitField
from wtforms.validators import DataRequired, Length


class StartForm(FlaskForm):
    """Any job button: the token makes a double click start one job."""

    token = HiddenField(validators=[DataRequired(), Length(min=32, max=32)])


class CertificatesForm(StartForm):
    """Issue every due certificate of a course in the user's scope, with a zip of PDFs."""

    course_id = SelectField(_l("Course"), coerce=int, validators=[DataRequired()])
    pdfs = BooleanField(_l("Also make a zip of the PDFs"), default=True)
    submit = SubmitField(_l("Issue certificates"))


class ExportForm(StartForm):
    """Prepare the compliance export (the page's filters) as a file to download later."""

    format = SelectField(_l("Format"), choices=[SelectChoice("csv", "CSV"),
                                                     SelectChoice("xlsx", "XLSX")])
    unit = HiddenField()
    course = HiddenField()
    state = HiddenField()
    submit = SubmitField(_l("Prepare export"))


class RemindersForm(StartForm):
    """Queue and send this week's reminder digests now."""

    submit = SubmitField(_l("Send reminders now"))


class OfficerRemindersForm(StartForm):
    """E-mail this week's reminder to each officer behind in the manager's scope, now."""

    submit = SubmitField(_l("Remind officers now"))


class RetryForm(FlaskForm):
    """Start a failed job again."""

    submit = SubmitField(_l("Try again"))
