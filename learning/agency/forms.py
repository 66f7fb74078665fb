"""Manager forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

MAX_EMAIL_LIST = 100_000  # about 2,000 addresses; a whole agency is a unit assignment


class AssignmentForm(FlaskForm):
    """Assign a course to units and/or named officers."""

    course_id = SelectField(_l("Course"), coerce=int, validators=[DataRequired()])
    due_on = DateField(_l("Due date"), validators=[DataRequired()])
    recurrence = SelectField(_l("Repeat"), choices=[
        SelectChoice("none", _l("Once")),
        SelectChoice("on_expiry", _l("Again when the certificate expires")),
        SelectChoice("months", _l("Again every N months after completion"))])
    every_months = IntegerField(_l("N months"), validators=[Optional(),
                                                             NumberRange(min=1, max=120)])
    unit_ids = SelectMultipleField(_l("Units (everyone in them, now and later)"), coerce=int,
                                   widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput())
    officer_emails = TextAreaField(_l("Officers by email, one per line (optional)"),
                                   validators=[Length(max=MAX_EMAIL_LIST)])
    confirm_past = BooleanField(_l("Yes, the due date is in the past on purpose"))
    submit = SubmitField(_l("Assign"))


class RemoveAssignmentForm(FlaskForm):
    """A CSRF-protected button: stop requiring an assignment's course."""

    submit = SubmitField(_l("Remove this assignment"))


class GrantAttemptsForm(FlaskForm):
    """A CSRF-protected button: let an officer take a final assessment again."""

    submit = SubmitField(_l("Allow new attempts at the final"))
