"""Forms for reading courses."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField


class MarkCompleteForm(FlaskForm):
    """A CSRF-protected button: marking a lesson complete changes state, so it is a POST."""

    submit = SubmitField(_l("Mark as complete"))
