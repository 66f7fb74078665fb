"""Role x URL x expected status, and the agency-scoping helper."""

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from learning.access import scope_people, visible_person_or_404
from learning.accounts.models import User
from learning.extensions import db

ROLES = ["anonymous", "officer", "trainer", "manager", "admin"]
MATRIX = {
    # url: expected status per role, in ROLES order
    "/": (302, 302, 302, 302, 302),
    "/login": (200, 302, 302, 302, 302),
    "/healthz": (200, 200, 200, 200, 200),
    "/courses/": (302, 200, 200, 200, 200),
    "/courses/field-basics/": (302, 200, 200, 200, 200),
    "/courses/field-basics/first-steps/": (302, 200, 200, 200, 200),
    "/courses/field-basics/no-such-lesson/": (302, 404, 404, 404, 404),
    "/courses/no-such-course/": (302, 404, 404, 404, 404),
    "/author/": (302, 403, 200, 403, 200),
    "/author/preview/field-basics/first-steps/": (302, 403, 200, 403, 200),
    "/author/preview/field-basics/nope/": (302, 403, 404, 403, 404),
    "/author/courses/field-basics/items/": (302, 403, 200, 403, 200),
    "/courses/field-basics/assessments/final/": (302, 200, 200, 200, 200),
    "/progress/": (302, 200, 200, 200, 200),
    "/certificates/": (302, 200, 200, 200, 200),
    "/verify/" + "0" * 32: (404, 404, 404, 404, 404),
    "/admin/": (302, 403, 403, 403, 200),
    "/agency/": (302, 403, 403, 200, 200),
    "/agency/export.csv": (302, 403, 403, 200, 200),
    "/agency/assignments/": (302, 403, 403, 200, 403),
    "/admin/certificates/" + "0" * 32: (302, 403, 403, 403, 404),
}


@pytest.mark.parametrize("url", MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, synced, make_user, login_as, role, url):
    if role != "anonymous":
        login_as(make_user(role))
    expected = MATRIX[url][ROLES.index(role)]
    response = client.get(url)
    assert response.status_code == expected, f"{role} GET {url}"
    if expected == 302 and role == "anonymous" and url not in ("/", "/login"):
        assert response.headers["Location"].startswith("/login?next=")


def test_scope_people(app_ctx, make_user, make_unit, agency):
    from learning.accounts.service import get_or_create_agency

    north, south = make_unit(agency, "North"), make_unit(agency, "South")
    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    a_north = make_user("officer", agency=agency, unit=north)
    a_south = make_user("officer", agency=agency, unit=south)
    b_officer = make_user("officer", agency=other)
    manager_a = make_user("manager", agency=agency)
    unit_manager = make_user("manager", agency=agency, unit=north)
    admin = make_user("admin")

    def visible(viewer):
        query = scope_people(sa.select(User.id).where(User.role == "officer"), viewer)
        return set(db.session.scalars(query))

    assert visible(manager_a) == {a_north.id, a_south.id}
    assert visible(unit_manager) == {a_north.id}
    assert visible(admin) == {a_north.id, a_south.id, b_officer.id}
    assert visible(a_north) == {a_north.id}
    assert visible_person_or_404(a_south.id, manager_a).id == a_south.id
    with pytest.raises(NotFound):
        visible_person_or_404(b_officer.id, manager_a)
    with pytest.raises(NotFound):
        visible_person_or_404(a_south.id, unit_manager)
