"""Content layer: course and quiz files parsed into frozen dataclasses.

Nothing here imports Flask or the database, so the command line, the web app
and the tests all read content the same way.
"""

from learning.content.loader import CatalogueLoad, CourseLoad, load_catalogue, load_course
from learning.content.model import Course, Lesson, Module, Problem

__all__ = [
    "CatalogueLoad",
    "Course",
    "CourseLoad",
    "Lesson",
    "Module",
    "Problem",
    "load_catalogue",
    "load_course",
]
