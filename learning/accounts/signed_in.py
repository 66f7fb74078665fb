"""The signed-in user of a request: one Core query, no ORM query.

Every signed-in request loads its user (and the agency, for the language and time
zone) before anything else. An ORM query spends most of its time on the ORM's own
work rather than in the database, so the row is read with a Core statement built
once, and the ``User`` (and ``Agency``) instances are made from it and attached to
the session as if the ORM had loaded them: they are ordinary persistent objects, so
lazy relationships load and changes are flushed as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import attributes, make_transient_to_detached

from learning.accounts.models import Agency, User
from learning.extensions import db

_USER_KEYS = tuple(prop.key for prop in User.__mapper__.column_attrs)
_AGENCY_KEYS = tuple(prop.key for prop in Agency.__mapper__.column_attrs)
_agency = Agency.__table__
_USER_AND_AGENCY = (
    sa.select(*(User.__mapper__.column_attrs[key].columns[0] for key in _USER_KEYS),
              *(Agency.__mapper__.column_attrs[key].columns[0] for key in _AGENCY_KEYS))
    .select_from(User.__table__.outerjoin(_agency, _agency.c.id == User.__table__.c.agency_id))
    .where(User.__table__.c.id == sa.bindparam("id"))
)


def _persistent(cls: type, keys: tuple[str, ...], values: tuple) -> object:
    """An instance of ``cls`` holding ``values``, attached to the session as if loaded."""
    # keys[0] is "id"; the key is spelt out as identity_key() would build it (it is
    # slower, and this runs on every signed-in request)
    found = db.session.identity_map.get((cls, (values[0],), None))
    if found is not None:
        return found  # already in this session: the same object, as the ORM would give
    instance = cls._sa_class_manager.new_instance()
    instance.__dict__.update(zip(keys, values, strict=True))
    make_transient_to_detached(instance)  # every column loaded, nothing pending
    db.session.add(instance)
    return instance


def signed_in_user(user_id: int, generation: int) -> User | None:
    """The user ``user_id`` if their sessions were not ended since ``generation``."""
    row = db.session.execute(_USER_AND_AGENCY, {"id": user_id}).first()
    if row is None or row.session_generation != generation:
        return None
    split = len(_USER_KEYS)
    agency = (_persistent(Agency, _AGENCY_KEYS, tuple(row[split:]))
              if row[split] is not None else None)
    user = _persistent(User, _USER_KEYS, tuple(row[:split]))
    if "agency" not in user.__dict__:
        attributes.set_committed_value(user, "agency", agency)  # loaded, not a change
    return user  # type: ignore[return-value]
