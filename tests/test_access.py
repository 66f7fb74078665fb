"""The agency-scoping helper (the role x route table is in test_route_table.py)."""

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from learning.access import scope_people, visible_person_or_404
from learning.accounts.models import User
from learning.extensions import db


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
