"""Rows for `make scale-test`, written in one process: python scale/seed.py OFFICERS BULK PASSWORD.

Officers for the load, and officers who met the completion rule but hold no
certificate yet (what the bulk certificate job issues). Prints the plan for
Locust as one JSON line.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT_ROOT), str(PROJECT_ROOT / "bench")]

from assessments import correct_form  # noqa: E402  (bench/assessments.py)

from learning import create_app  # noqa: E402
from learning.accounts.models import User  # noqa: E402
from learning.accounts.service import get_or_create_agency, hash_password  # noqa: E402
from learning.catalogue.models import Course  # noqa: E402
from learning.certificates.models import Completion  # noqa: E402
from learning.extensions import db  # noqa: E402
from learning.progress.models import LessonProgress  # noqa: E402
from learning.timeutil import utcnow  # noqa: E402

COURSE = "field-basics"


def main(officers: int, bulk: int, password: str) -> dict:
    app = create_app()
    with app.app_context():
        agency = get_or_create_agency("Scale Border Agency", "scale-border-agency")
        password_hash = hash_password(password)  # argon2 once, not per officer
        emails = [f"officer{n}@scale.example" for n in range(1, officers + 1)]
        db.session.execute(sa.insert(User), [
            {"email": email, "display_name": f"Officer {n}", "role": "officer",
             "password_hash": password_hash, "agency_id": agency.id}
            for n, email in enumerate(emails, start=1)])
        db.session.execute(sa.insert(User), [
            {"email": f"bulk{n}@scale.example", "display_name": f"Bulk Officer {n}",
             "role": "officer", "password_hash": password_hash, "agency_id": agency.id}
            for n in range(1, bulk + 1)])
        course = db.session.scalar(sa.select(Course).where(Course.slug == COURSE))
        bulk_ids = list(db.session.scalars(sa.select(User.id).where(
            User.email.like("bulk%@scale.example")).order_by(User.id)))
        yesterday = utcnow() - timedelta(days=1)
        db.session.execute(sa.insert(Completion), [
            {"user_id": user_id, "course_id": course.id, "version_id": course.current_version_id,
             "cycle": 0, "completed_at": yesterday, "score": 90.0} for user_id in bulk_ids])
        # One lesson read each: the bulk job looks at officers who started the course.
        first = course.current_version.outline[0]["lessons"][0]
        db.session.execute(sa.insert(LessonProgress), [
            {"user_id": user_id, "course_id": course.id, "lesson_slug": first["slug"],
             "version_id": course.current_version_id, "lesson_hash": first["hash"],
             "completed_at": yesterday} for user_id in bulk_ids])
        manager = User(email="manager@scale.example", display_name="Scale Manager",
                       role="manager", password_hash=password_hash, agency_id=agency.id)
        db.session.add(manager)
        db.session.commit()
        manager_id = manager.id
        lessons = [f"/courses/{COURSE}/{lesson['slug']}/"
                   for module in course.current_version.outline for lesson in module["lessons"]]
        form = correct_form(app)
    return {"officers": emails, "password": password, "lessons": lessons,
            "start_path": f"/courses/{COURSE}/assessments/final/", "form": form,
            "saved_question": "smuggling-ends", "submit_sequence": 10**15,
            "course": COURSE, "course_id": course.id, "bulk_officers": bulk_ids,
            "manager_id": manager_id}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])))
