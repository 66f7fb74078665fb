"""People and the organisations they belong to."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from learning.extensions import db
from learning.timeutil import DEFAULT_ZONE, MAX_ZONE_LENGTH, utcnow, zone_name_for

ROLES = ("officer", "trainer", "manager", "admin")
UNIT_KINDS = ("post", "station", "office", "unit")


class Agency(db.Model):
    """A border or law-enforcement agency: the boundary of what a manager may see."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    # The interface language of its people unless they choose their own (None: English
    # or the browser's).
    language: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    # IANA name; every time is shown in it unless an officer chose their own.
    time_zone: so.Mapped[str] = so.mapped_column(sa.String(MAX_ZONE_LENGTH),
                                                 default=DEFAULT_ZONE,
                                                 server_default=DEFAULT_ZONE)
    # Whose lesson passages and final items its officers get (None: the general text only).
    jurisdiction: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    units: so.Mapped[list[Unit]] = so.relationship(back_populates="agency",
                                                   order_by="Unit.name")


class Unit(db.Model):
    """A post, station or office inside an agency."""

    __table_args__ = (sa.UniqueConstraint("agency_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agency.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(20), default="post")

    agency: so.Mapped[Agency] = so.relationship(back_populates="units")


class User(UserMixin, db.Model):
    """Anyone who signs in. One role each; officers and managers belong to an agency."""

    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint("role IN ('officer', 'trainer', 'manager', 'admin')", name="role"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    role: so.Mapped[str] = so.mapped_column(sa.String(20), default="officer")
    active: so.Mapped[bool] = so.mapped_column(default=True)
    agency_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("agency.id"), index=True)
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("unit.id"), index=True)
    # None: the agency's language (then the browser's); see learning.languages.service.
    language: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    # IANA name chosen by the user; None means their agency's zone.
    time_zone: so.Mapped[str | None] = so.mapped_column(sa.String(MAX_ZONE_LENGTH))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_login_at: so.Mapped[datetime | None]
    # Bumped to end every session and remember-me cookie of the account at once:
    # the value is part of the id Flask-Login stores, so older cookies stop loading.
    session_generation: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # When the account was last deactivated (the retention clock), and when it was purged.
    deactivated_at: so.Mapped[datetime | None]
    purged_at: so.Mapped[datetime | None]

    # Joined: every request reads the agency's language (and time zone) with the user.
    agency: so.Mapped[Agency | None] = so.relationship(lazy="joined")
    unit: so.Mapped[Unit | None] = so.relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What the session and remember-me cookies hold: id and session generation."""
        return f"{self.id}:{self.session_generation}"

    @property
    def time_zone_name(self) -> str:
        """The zone this user sees times in: their own, else their agency's, else UTC."""
        return zone_name_for(self.time_zone, self.agency.time_zone if self.agency else None)

    def has_role(self, *roles: str) -> bool:
        """True for a user holding one of the roles; admins hold every role."""
        return self.role in roles or self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class PasswordReset(db.Model):
    """A single-use, one-hour link e-mailed to an account's owner; only its SHA-256 is kept.

    A newer request or a completed reset revokes the account's other pending links.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    expires_at: so.Mapped[datetime]
    used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]
    requested_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
