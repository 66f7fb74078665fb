"""Imports every model module so metadata (and Alembic) sees all tables."""

import learning.accounts.auth_models  # noqa: F401
import learning.agency.compliance_models  # noqa: F401
import learning.agency.reminders_models  # noqa: F401
import learning.agency.staff_models  # noqa: F401
import learning.api.models  # noqa: F401
import learning.author.models  # noqa: F401
import learning.catalogue.import_models  # noqa: F401
import learning.jobs.models  # noqa: F401
from learning.accounts.models import Agency, PasswordReset, Unit, User
from learning.agency.models import Assignment, AssignmentTarget
from learning.assessments.models import Attempt
from learning.audit.models import AuditEntry
from learning.catalogue.models import Course, CourseVersion, Lesson, MediaAsset
from learning.certificates.models import Certificate, Completion
from learning.progress.models import LessonProgress

__all__ = ["Agency", "Assignment", "AssignmentTarget", "Attempt", "AuditEntry", "Certificate",
           "Completion", "Course", "CourseVersion", "Lesson", "LessonProgress", "MediaAsset",
           "PasswordReset", "Unit", "User"]
