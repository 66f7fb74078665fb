"""Staff CSV import: parse, preview, then apply all or nothing (idempotent).

Every problem is reported with its line number; nothing is written until the whole
file is valid. Existing accounts are looked up through ``scope_people``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from learning.access import scope_people
from learning.accounts.models import Unit, User
from learning.accounts.service import EMAIL, AccountError, clean_display_name, normalise_email
from learning.agency.service import record_audit, units_of
from learning.agency.staff import StaffError, agency_of
from learning.agency.staff_models import PendingStaffImport
from learning.extensions import db
from learning.timeutil import utcnow

MAX_IMPORT_BYTES = 5 * 1024 * 1024
COLUMNS = ("email", "name", "unit")
PENDING_IMPORT_LIFETIME = timedelta(days=1)
_CHUNK = 500  # emails per IN (...) lookup, well under every database's parameter limit


class StaffImportError(StaffError):
    """An import refused as a whole, with every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems

@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be imported; ``line`` is None when it is about the whole file."""

    line: int | None
    reason: str

    def __str__(self) -> str:
        if self.line is None:
            return self.reason
        return _("line %(n)d: %(reason)s", n=self.line, reason=self.reason)


@dataclass(frozen=True)
class StaffRow:
    """One well-formed line of a staff file."""

    line: int
    email: str
    name: str
    unit: str


@dataclass
class ParsedStaff:
    """The well-formed rows of a file and every problem found while reading it."""

    rows: list[StaffRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class PlannedRow:
    """What importing one row does: create an officer, or update (or keep) an existing one."""

    row: StaffRow
    unit: Unit
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

    @property
    def ok(self) -> bool:
        """True when the whole file can be imported."""
        return not self.problems

def sha256_of(data: bytes) -> str:
    """Hex SHA-256, naming an upload so its confirmation can be checked against it."""
    return hashlib.sha256(data).hexdigest()


def parse_staff_csv(data: bytes) -> ParsedStaff:
    """Read a staff file (header email,name,unit) into rows, collecting every problem."""
    if len(data) > MAX_IMPORT_BYTES:
        return ParsedStaff(problems=[Problem(None, _(
            "The file is larger than %(mb)d MB. Split it into smaller files and import "
            "each one.", mb=MAX_IMPORT_BYTES // (1024 * 1024)))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ParsedStaff(problems=[Problem(data[:exc.start].count(b"\n") + 1, _(
            "the file is not UTF-8 text. Save it from your spreadsheet as "
            "\"CSV UTF-8\" and upload it again."))])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip().casefold() for cell in next(reader, [])]
    if sorted(header) != sorted(COLUMNS):
        return ParsedStaff(problems=[Problem(1, _(
            "the first line must name the columns email, name and unit (found: %(found)s).",
            found=", ".join(header) or _("nothing")))])
    parsed = ParsedStaff()
    first_seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.problems.append(Problem(line, _("this line is not valid CSV (%(error)s).",
                                                   error=str(exc))))
            continue
        if not any(value.strip() for value in values):
            continue
        row = _read_row(line, dict(zip(header, values, strict=False)), len(values), first_seen)
        if isinstance(row, StaffRow):
            parsed.rows.append(row)
        else:
            parsed.problems.extend(row)
    if not parsed.rows and not parsed.problems:
        parsed.problems.append(Problem(None, _("The file lists no officers after its header.")))
    return parsed


def _read_row(line: int, cells: dict[str, str], count: int,
              first_seen: dict[str, int]) -> StaffRow | list[Problem]:
    """One data line as a row, or every problem it has (all of them, not just the first)."""
    if count != len(COLUMNS):
        return [Problem(line, _("expected 3 values (email, name, unit), found %(n)d.", n=count))]
    email = normalise_email(cells["email"])
    name, unit = cells["name"].strip(), cells["unit"].strip()
    problems = []
    if not email:
        problems.append(Problem(line, _("the email is missing.")))
    elif len(email) > 254 or not EMAIL.match(email):
        problems.append(Problem(line, _("'%(email)s' is not a valid email address.",
                                        email=email[:100])))
    elif email in first_seen:
        problems.append(Problem(line, _("'%(email)s' already appears on line %(n)d.",
                                        email=email, n=first_seen[email])))
    else:
        first_seen[email] = line
    if not name:
        problems.append(Problem(line, _("the name is missing.")))
    else:
        try:
            name = clean_display_name(name)
        except AccountError as exc:
            problems.append(Problem(line, str(exc)))
    if not unit:
        problems.append(Problem(line, _("the unit is missing.")))
    return problems or StaffRow(line, email, name, unit)

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


def preview_import(manager: User, data: bytes) -> ImportPreview:
    """What importing ``data`` would do for this manager, and every reason it cannot."""
    agency_id = agency_of(manager)
    parsed = parse_staff_csv(data)
    preview = ImportPreview(sha256=sha256_of(data), problems=list(parsed.problems))
    units = units_of(agency_id)
    exact = {unit.name: unit for unit in units}
    folded = {unit.name.casefold(): unit for unit in units}
    own_unit = manager.unit.name if manager.unit is not None else ""
    visible, taken = _accounts_by_email(manager, [row.email for row in parsed.rows])
    for row in parsed.rows:
        problems = []
        unit = exact.get(row.unit) or folded.get(row.unit.casefold())
        if unit is None:
            problems.append(_("there is no unit named '%(unit)s' in your agency.", unit=row.unit))
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
            preview.create.append(PlannedRow(row, unit, elsewhere=row.email in taken))
        elif person.display_name != row.name or person.unit_id != unit.id:
            preview.update.append(PlannedRow(row, unit, person, person.display_name,
                                             person.unit.name if person.unit else None))
        else:
            preview.unchanged.append(PlannedRow(row, unit, person))
    preview.problems.sort(key=lambda p: p.line or 0)
    return preview


def apply_import(manager: User, data: bytes,
                 pending: PendingStaffImport | None = None) -> ImportPreview:
    """Import the whole file or nothing: create new officers, update changed ones.

    Importing the same file again finds every row unchanged and writes no officer.
    """
    preview = preview_import(manager, data)
    if not preview.ok:
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
                  "updated": len(preview.update), "unchanged": len(preview.unchanged)})
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


def apply_pending_import(manager: User, pending_id: int, sha256: str) -> ImportPreview:
    """Apply the upload this manager previewed, checked against the digest the preview showed."""
    agency_id = agency_of(manager)
    pending = db.session.scalar(sa.select(PendingStaffImport).where(
        PendingStaffImport.id == pending_id, PendingStaffImport.uploaded_by == manager.id,
        PendingStaffImport.agency_id == agency_id,
        PendingStaffImport.created_at >= utcnow() - PENDING_IMPORT_LIFETIME))
    if pending is None or not hmac.compare_digest(pending.sha256, sha256 or ""):
        raise StaffImportError([Problem(None, _(
            "This upload is no longer available. Upload the file again."))])
    return apply_import(manager, pending.content, pending)
