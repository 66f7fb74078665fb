"""The signed-in user of a request: one Core query, no ORM query.

Every signed-in request loads its user (and the agency, for the language and time
zone) before anything else. An ORM query spends most of its time on the ORM's own
work rather than in the database, so the row is read with a Core statement built
once, and the ``User`` (and ``Agency``) instances are made from it and attached to
the session the way the ORM's own loader attaches a row it has just read (identity
map, session id): they are ordinary persistent objects, so lazy relationships load
and changes are flushed as before, without the cascade walk of ``Session.add``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm.base import instance_state

from learning.accounts.models import Agency, User
from learning.extensions import db
from learning.ops.dbconnections import DriverStatement

_USER_KEYS = tuple(prop.key for prop in User.__mapper__.column_attrs)
_AGENCY_KEYS = tuple(prop.key for prop in Agency.__mapper__.column_attrs)
_GENERATION = _USER_KEYS.index("session_generation")
_agency = Agency.__table__
# Other features add columns to it to read more in the same statement (user_from_row).
USER_AND_AGENCY = (
    sa.select(*(User.__mapper__.column_attrs[key].columns[0] for key in _USER_KEYS),
              *(Agency.__mapper__.column_attrs[key].columns[0] for key in _AGENCY_KEYS))
    .select_from(User.__table__.outerjoin(_agency, _agency.c.id == User.__table__.c.agency_id))
    .where(User.__table__.c.id == sa.bindparam("id"))
)


def _persistent(cls: type, keys: tuple[str, ...], values: tuple) -> object:
    """An instance of ``cls`` holding ``values``, attached to the session as if loaded."""
    session = db.session()
    # keys[0] is "id"; the key is spelt out as identity_key() would build it (it is
    # slower, and this runs on every signed-in request)
    key = (cls, (values[0],), None)
    found = session.identity_map.get(key)
    if found is not None:
        return found  # already in this session: the same object, as the ORM would give
    instance = cls._sa_class_manager.new_instance()
    instance.__dict__.update(zip(keys, values, strict=True))  # loaded: no change history
    # What sqlalchemy.orm.loading does for a new row (SQLAlchemy 2.x); the tests in
    # test_request_cost check the object is persistent, flushes changes and lazy-loads.
    state = instance_state(instance)
    state.key, state.identity_token, state.session_id = key, None, session.hash_key
    session.identity_map._add_unpresent(state, key)
    return instance


def user_from_row(row: sa.Row | tuple, generation: int) -> User | None:
    """The user held by a row of ``USER_AND_AGENCY`` (extra columns may follow; a typed
    tuple will do), or None when there is no row or the user's sessions were ended since
    ``generation``."""
    if row is None or row[_GENERATION] != generation:
        return None
    split = len(_USER_KEYS)
    agency = (_persistent(Agency, _AGENCY_KEYS, tuple(row[split:split + len(_AGENCY_KEYS)]))
              if row[split] is not None else None)
    user = _persistent(User, _USER_KEYS, tuple(row[:split]))
    user.__dict__.setdefault("agency", agency)  # loaded with the user, not a change
    return user  # type: ignore[return-value]


def user_and_agency_values(row: sa.Row | tuple) -> tuple[dict, dict | None]:
    """The user's and the agency's columns of a ``USER_AND_AGENCY`` row, by attribute name,
    for a reader that needs no objects (the lesson fast path)."""
    split = len(_USER_KEYS)
    user = dict(zip(_USER_KEYS, row[:split], strict=True))
    if row[split] is None:
        return user, None
    return user, dict(zip(_AGENCY_KEYS, row[split:split + len(_AGENCY_KEYS)], strict=True))


def signed_in_user(user_id: int, generation: int) -> User | None:
    """The user ``user_id`` if their sessions were not ended since ``generation``."""
    # Compiled once and sent on a pooled connection (in autocommit on PostgreSQL), outside
    # the session's transaction: the request's own statements begin it if it has any.
    return user_from_row(DriverStatement.of(USER_AND_AGENCY).first({"id": user_id}), generation)
