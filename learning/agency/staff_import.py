"""Staff CSV import: parse, preview, then apply all or nothing (idempotent).

Every problem is reported with its line number; nothing is written until the whole
file is valid. Existing accounts are looked up through ``scope_people``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from learning.access import scope_people
from learning.accounts.models import Unit, User
from learning.accounts.service import get_or_create_unit
from learning.agency.service import record_audit, units_of
from learning.agency.staff import StaffError, agency_of
from learning.agency.staff_csv import (  # noqa: F401 (re-exported: the import's public names)
    COLUMNS,
    MAX_IMPORT_BYTES,
    Problem,
    StaffRow,
    parse_staff_csv,
)
from learning.agency.staff_models import PendingStaffImport
from learning.core.spreadsheets import spreadsheet_safe
from learning.extensions import db
from learning.timeutil import utcnow

PENDING_IMPORT_LIFETIME = timedelta(days=1)
UNIT_NAME_MAX = 200
_CHUNK = 500  # emails per IN (...) lookup, well under every database's parameter limit


class StaffImportError(StaffError):
    """An import refused as a whole, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems

@dataclass
class PlannedRow:
    """What importing one row does: create an officer, or update (or keep) an existing one."""

    row: StaffRow
    unit: Unit | None  # None: a unit the import is to create (``unit_name``)
    unit_name: str
    officer: User | None = None
    old_name: str | None = None
    old_unit: str | None = None
    # The email belongs to an account outside the manager's agency: shown exactly like a
    # new officer (so the import reveals nothing about other agencies) but never written.
    elsewhere: bool = False


@dataclass
class ImportPreview:
    """The effect of importing a file, or the problems that prevent it."""

    sha256: str
    create: list[PlannedRow] = field(default_factory=list)
    update: list[PlannedRow] = field(default_factory=list)
    unchanged: list[PlannedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    missing_units: list[str] = field(default_factory=list)  # to create, if confirmed

    @property
    def ok(self) -> bool:
        """True when the whole file can be imported."""
        return not self.problems

def sha256_of(data: bytes) -> str:
    """Hex SHA-256, naming an upload so its confirmation can be checked against it."""
    return hashlib.sha256(data).hexdigest()


def _accounts_by_email(manager: User, emails: list[str]) -> tuple[dict[str, User],
                                                                  dict[str, int | None]]:
    """Existing accounts with these emails: those the manager may see, and the agency of others.

    Only the email and agency of an account the manager may not see are read: one in
    the manager's agency is refused with a reason; one elsewhere is silently skipped.
    """
    visible: dict[str, User] = {}
    taken: dict[str, int | None] = {}
    for start in range(0, len(emails), _CHUNK):
        chunk = emails[start:start + _CHUNK]
        query = scope_people(sa.select(User).where(User.email.in_(chunk))
                             .options(so.joinedload(User.unit)), manager)
        visible.update((person.email, person) for person in db.session.scalars(query))
        for email, agency_id in db.session.execute(
                sa.select(User.email, User.agency_id).where(User.email.in_(chunk))):
            if email not in visible:
                taken[email] = agency_id
    return visible, taken


def preview_import(manager: User, data: bytes, create_units: bool = False) -> ImportPreview:
    """What importing ``data`` would do for this manager, and every reason it cannot.

    Units the file names but the agency lacks are listed in ``missing_units``; they are
    problems unless ``create_units`` (an agency-level manager agreed to create them).
    """
    agency_id = agency_of(manager)
    parsed = parse_staff_csv(data)
    preview = ImportPreview(sha256=sha256_of(data), problems=list(parsed.problems))
    units = units_of(agency_id)
    exact = {unit.name: unit for unit in units}
    folded = {unit.name.casefold(): unit for unit in units}
    missing: dict[str, str] = {}  # folded name -> the first spelling in the file
    own_unit = manager.unit.name if manager.unit is not None else ""
    visible, taken = _accounts_by_email(manager, [row.email for row in parsed.rows])
    for row in parsed.rows:
        problems = []
        unit = exact.get(row.unit) or folded.get(row.unit.casefold())
        unit_name = unit.name if unit else missing.setdefault(row.unit.casefold(), row.unit)
        if unit is None and (manager.unit_id is not None or not create_units):
            problems.append(_("there is no unit named '%(unit)s' in your agency.", unit=row.unit))
        elif unit is None and len(row.unit) > UNIT_NAME_MAX:
            problems.append(_("a unit name has at most %(n)d characters.", n=UNIT_NAME_MAX))
        elif manager.unit_id is not None and unit.id != manager.unit_id:
            problems.append(_("you can only import officers into your own unit, '%(unit)s'.",
                              unit=own_unit))
        person = visible.get(row.email)
        if person is not None and person.role != "officer":
            problems.append(_("'%(email)s' belongs to an account that is not an officer's; "
                              "the import only adds and updates officers.", email=row.email))
        elif person is None and taken.get(row.email, -1) == agency_id:
            problems.append(_("'%(email)s' belongs to someone outside your unit.",
                              email=row.email))
        if problems:
            preview.problems.extend(Problem(row.line, reason) for reason in problems)
        elif person is None:
            preview.create.append(PlannedRow(row, unit, unit_name, elsewhere=row.email in taken))
        elif person.display_name != row.name or unit is None or person.unit_id != unit.id:
            preview.update.append(PlannedRow(row, unit, unit_name, person, person.display_name,
                                             person.unit.name if person.unit else None))
        else:
            preview.unchanged.append(PlannedRow(row, unit, unit_name, person))
    if manager.unit_id is None:
        preview.missing_units = sorted(missing.values(), key=str.casefold)
    preview.problems.sort(key=lambda p: p.line or 0)
    return preview


def _create_missing_units(manager: User, names: list[str]) -> None:
    """Add the units an import names, each audited (the caller commits)."""
    agency = manager.agency
    for name in names:
        unit = get_or_create_unit(agency, name)
        record_audit(manager, "unit.create", name, {"unit_id": unit.id, "by": "staff import"})


def apply_import(manager: User, data: bytes, pending: PendingStaffImport | None = None,
                 create_units: bool = False) -> ImportPreview:
    """Import the whole file or nothing: create new officers, update changed ones.

    With ``create_units``, units the file names but the agency lacks are created first.
    Importing the same file again finds every row unchanged and writes no officer.
    """
    preview = preview_import(manager, data, create_units)
    if not preview.ok:
        raise StaffImportError(preview.problems)
    new_units = preview.missing_units
    if new_units:
        _create_missing_units(manager, new_units)
        preview = preview_import(manager, data)
        if not preview.ok:
            db.session.rollback()
            raise StaffImportError(preview.problems)
    for planned in preview.create:
        if planned.elsewhere:
            record_audit(manager, "staff.import.skip", planned.row.email,
                         {"line": planned.row.line, "reason": "account in another agency"},
                         outcome="denied")
            continue
        db.session.add(User(email=planned.row.email, display_name=planned.row.name,
                            role="officer", password_hash=None, active=True,
                            agency_id=manager.agency_id, unit_id=planned.unit.id))
    for planned in preview.update:
        planned.officer.display_name = planned.row.name
        planned.officer.unit_id = planned.unit.id
    if pending is not None:
        db.session.delete(pending)
    created = sum(1 for planned in preview.create if not planned.elsewhere)
    record_audit(manager, "staff.import", f"{created} created, "
                 f"{len(preview.update)} updated",
                 {"sha256": preview.sha256, "created": created,
                  "updated": len(preview.update), "unchanged": len(preview.unchanged),
                  "units_created": new_units})
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise StaffImportError([Problem(None, _(
            "Someone else added some of these officers while you were importing. "
            "Upload the file again to see the difference."))]) from exc
    return preview


def stash_upload(manager: User, data: bytes) -> PendingStaffImport:
    """Keep an upload until it is confirmed, replacing this manager's earlier one."""
    agency_id = agency_of(manager)
    db.session.execute(sa.delete(PendingStaffImport).where(sa.or_(
        PendingStaffImport.uploaded_by == manager.id,
        PendingStaffImport.created_at < utcnow() - PENDING_IMPORT_LIFETIME)))
    pending = PendingStaffImport(agency_id=agency_id, uploaded_by=manager.id,
                                 sha256=sha256_of(data), content=data)
    db.session.add(pending)
    db.session.commit()
    return pending


def _pending(manager: User, pending_id: int, sha256: str) -> PendingStaffImport:
    """The upload this manager previewed, checked against the digest the preview showed."""
    agency_id = agency_of(manager)
    pending = db.session.scalar(sa.select(PendingStaffImport).where(
        PendingStaffImport.id == pending_id, PendingStaffImport.uploaded_by == manager.id,
        PendingStaffImport.agency_id == agency_id,
        PendingStaffImport.created_at >= utcnow() - PENDING_IMPORT_LIFETIME))
    if pending is None or not hmac.compare_digest(pending.sha256, sha256 or ""):
        raise StaffImportError([Problem(None, _(
            "This upload is no longer available. Upload the file again."))])
    return pending


def pending_preview(manager: User, pending_id: int, sha256: str) -> ImportPreview:
    """The preview of an upload waiting for confirmation, as it was shown."""
    return preview_import(manager, _pending(manager, pending_id, sha256).content,
                          create_units=True)


def apply_pending_import(manager: User, pending_id: int, sha256: str,
                         create_units: bool = False) -> ImportPreview:
    """Apply the upload this manager previewed, checked against the digest the preview showed."""
    pending = _pending(manager, pending_id, sha256)
    return apply_import(manager, pending.content, pending, create_units)


def template_csv(manager: User) -> str:
    """The header and one example row, naming one of the manager's own units."""
    units = [unit for unit in units_of(agency_of(manager))
             if manager.unit_id in (None, unit.id)]
    unit = units[0].name if units else _("North Post")
    example = (_("officer@example.org"), _("Firstname Lastname"), unit)
    return ",".join(COLUMNS) + "\r\n" + ",".join(_csv_cell(spreadsheet_safe(v))
                                                for v in example) + "\r\n"


def _csv_cell(value: str) -> str:
    """One CSV cell, quoted when it holds a separator or a quote."""
    if any(ch in value for ch in ',;"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
