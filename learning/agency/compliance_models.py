"""Compliance kept current as events happen: rows per (officer, assignment) and per officer.

``ComplianceState`` stores the dates a state depends on, never the state itself, so
crossing a date (due, expiry, the expiring window) needs no rewrite: queries derive
the state with a CASE against today. ``ComplianceTally`` holds the same rows as
per-unit step functions ("from ``day`` on, ``delta`` more rows are in ``state``"), so
the unit totals are one small grouped query whatever the agency's size.
``OfficerCompliance`` sums each officer's rows up (the last day they are compliant on
every course), and the tally holds its steps too, under ``EVERY_COURSE``
(``compliance_summary``), so the dashboard's shares per unit read O(units) rows.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db


class ComplianceState(db.Model):
    """What one assigned (officer, assignment) pair's state is derived from."""

    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "user_id"),
        sa.Index("ix_compliance_state_order", "agency_id", "unit_name", "officer_name",
                 "user_id"),
        sa.Index("ix_compliance_state_unit", "agency_id", "unit_id", "officer_name", "user_id"),
        sa.Index("ix_compliance_state_user", "user_id", "course_id"),
        sa.Index("ix_compliance_state_expiry", "agency_id", "expires_on", "officer_name",
                 "user_id", "course_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agency.id"))
    unit_id: so.Mapped[int | None]
    unit_name: so.Mapped[str] = so.mapped_column(sa.String(200))  # "" without a unit
    officer_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    assignment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"))
    course_id: so.Mapped[int]
    due_on: so.Mapped[date]
    started: so.Mapped[bool]
    completed_on: so.Mapped[date | None]  # issue date of the certificate held, if any
    score: so.Mapped[float | None]
    expires_on: so.Mapped[date | None]
    next_due: so.Mapped[date | None]  # when the recurrence asks again (held only)
    watch_on: so.Mapped[date | None]  # the earlier of next_due and expires_on


class ComplianceTally(db.Model):
    """From ``day`` on, ``delta`` more rows of a unit and course are in ``state``.

    Under ``course_id`` 0 (``EVERY_COURSE``) it counts officers instead: "officers" with
    assigned training, "compliant" on every course, and certificates "lapsed" (one per
    officer and course, from the day after it expires).
    """

    __table_args__ = (
        sa.UniqueConstraint("agency_id", "day", "unit_key", "course_id", "state"),
        # The officers' steps and the lapses per day, without the courses' rows in between.
        sa.Index("ix_compliance_tally_course", "agency_id", "course_id", "state", "day",
                 "unit_key", "delta"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agency.id"))
    unit_key: so.Mapped[int]  # the unit's id, 0 for officers without a unit
    course_id: so.Mapped[int]
    day: so.Mapped[date]
    state: so.Mapped[str] = so.mapped_column(sa.String(12))
    delta: so.Mapped[int]


class OfficerCompliance(db.Model):
    """One officer with assigned training, summed up over their ``ComplianceState`` rows."""

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    agency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agency.id"), index=True)
    unit_id: so.Mapped[int | None]
    assignments: so.Mapped[int]  # state rows
    completed: so.Mapped[int]  # of which hold a valid certificate
    # The last day the officer is compliant on every assigned course: None when one has no
    # valid certificate, ``compliance_summary.FOREVER`` when none ever lapses.
    compliant_until: so.Mapped[date | None]


class ComplianceSnapshot(db.Model):
    """Officers compliant out of those with assigned training in one unit at a month's end.

    Written once per (agency, unit, month): the unique constraint makes a second,
    concurrent write a no-op. ``unit_key`` is the unit's id, 0 for officers without one.
    """

    __table_args__ = (sa.UniqueConstraint("agency_id", "month", "unit_key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agency.id"))
    unit_key: so.Mapped[int]
    month: so.Mapped[date]  # the month's first day
    total: so.Mapped[int]
    compliant: so.Mapped[int]
