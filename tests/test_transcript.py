"""/progress/: every course with its status, module progress, best score and what to do next."""

from datetime import date, timedelta

import pytest

from learning.certificates.models import Certificate
from learning.extensions import db
from learning.transcript.service import course_status, transcript
from tests.test_certificates import certificates, pass_final, read_all_lessons


def make_certificate(expires_on, revoked=False):
    return Certificate(code="0" * 32, completion_id=1, user_id=1, course_id=1, version_id=1,
                       holder_name="x", course_slug="c", course_title="C", version_number=1,
                       content_hash="h" * 64, score=None, issued_on=date(2026, 1, 31),
                       expires_on=expires_on,
                       revoked_at=None if not revoked else date(2026, 3, 1))


@pytest.mark.parametrize("today,expires,revoked,progress,expected", [
    (date(2026, 5, 1), None, False, False, "not_started"),
    (date(2026, 5, 1), None, False, True, "in_progress"),
    (date(2026, 5, 1), "none", False, True, "completed"),  # a certificate without expiry
    (date(2027, 10, 31), date(2028, 1, 31), False, True, "completed"),  # 92 days left
    (date(2027, 11, 2), date(2028, 1, 31), False, True, "expiring"),  # 90 days left
    (date(2028, 1, 30), date(2028, 1, 31), False, True, "expiring"),
    (date(2028, 1, 31), date(2028, 1, 31), False, True, "expired"),  # expires on that day
    (date(2028, 2, 29), date(2028, 1, 31), False, True, "expired"),
    (date(2026, 5, 1), date(2028, 1, 31), True, True, "in_progress"),  # revoked
])
def test_status_on_fixed_dates(today, expires, revoked, progress, expected):
    certificate = None
    if expires is not None:
        certificate = make_certificate(None if expires == "none" else expires, revoked)
    assert course_status(progress, certificate, today, 90) == expected


def test_transcript_page(client, synced, make_user, login_as):
    officer = make_user("officer")
    login_as(officer)
    html = client.get("/progress/").get_data(as_text=True)
    assert "Field basics" in html and "Not started" in html
    assert "Final assessment not taken yet" in html

    client.post("/courses/field-basics/first-steps/")
    html = client.get("/progress/").get_data(as_text=True)
    assert "In progress" in html and "First module" in html and "1 / 2" in html
    assert 'href="/courses/field-basics/second-steps/">Continue: next lesson' in html

    read_all_lessons(client)
    assert "Take the final assessment" in client.get("/progress/").get_data(as_text=True)
    pass_final(client)
    html = client.get("/progress/").get_data(as_text=True)
    assert "Completed" in html and "Best final score: 100%" in html
    (certificate,) = certificates()
    assert f"valid until {certificate.expires_on.isoformat()}" in html

    certificate.expires_on = date.today() + timedelta(days=10)
    db.session.commit()
    html = client.get("/progress/").get_data(as_text=True)
    assert "Expiring soon" in html and "Recertify before" in html
    records = transcript(officer.id, date.today(), 90)
    assert [r.status for r in records] == ["expiring"]
