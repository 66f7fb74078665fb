"""Who may view, edit, review and grant a course's drafts: the one place these rules live.

Any trainer may read drafts and create a new course (becoming its owner). Only a course's
owners and editors edit or review it; only admins grant or revoke those roles. Admins may
do everything.
"""

from __future__ import annotations

import sqlalchemy as sa

from learning.accounts.models import User
from learning.author.models import MEMBER_ROLES, CourseMember
from learning.extensions import db


class MembershipError(ValueError):
    """A grant that cannot be made (unknown person, not a trainer, bad role)."""


def member_role(course_slug: str, user: User) -> str | None:
    """"owner", "editor" or None for this user on this course."""
    return db.session.scalar(sa.select(CourseMember.role).where(
        CourseMember.course_slug == course_slug, CourseMember.user_id == user.id))


def may_view(user: User, course_slug: str) -> bool:
    """Trainers and admins read every draft (reviewing needs other eyes)."""
    return user.has_role("trainer")


def may_edit(user: User, course_slug: str) -> bool:
    """Owners, editors and admins change a course's drafts."""
    return user.role == "admin" or (user.role == "trainer"
                                    and member_role(course_slug, user) is not None)


def may_review(user: User, course_slug: str) -> bool:
    """The same people may review (the author of a draft never approves it: see review)."""
    return may_edit(user, course_slug)


def may_grant(user: User, course_slug: str) -> bool:
    """Only admins hand out ownership."""
    return user.role == "admin"


def members(course_slug: str) -> list[tuple[CourseMember, User]]:
    """A course's owners and editors, owners first."""
    rows = db.session.execute(
        sa.select(CourseMember, User).join(User, User.id == CourseMember.user_id)
        .where(CourseMember.course_slug == course_slug)
        .order_by(CourseMember.role.desc(), User.display_name))
    return [(member, person) for member, person in rows]


def grant(course_slug: str, email: str, role: str, granted_by: User | None) -> CourseMember:
    """Make the trainer with this email an owner or editor (the caller commits)."""
    if role not in MEMBER_ROLES:
        raise MembershipError("role")
    person = db.session.scalar(sa.select(User).where(
        sa.func.lower(User.email) == email.strip().lower()[:254]))
    if person is None or person.role != "trainer" or not person.active:
        raise MembershipError("person")
    member = db.session.scalar(sa.select(CourseMember).where(
        CourseMember.course_slug == course_slug, CourseMember.user_id == person.id))
    if member is None:
        member = CourseMember(course_slug=course_slug, user_id=person.id, role=role,
                              granted_by=granted_by.id if granted_by else None)
        db.session.add(member)
    else:
        member.role = role
        member.granted_by = granted_by.id if granted_by else None
    db.session.flush()
    return member


def revoke(course_slug: str, member_id: int) -> CourseMember | None:
    """Remove one membership of this course; None if there is no such membership."""
    member = db.session.get(CourseMember, member_id)
    if member is None or member.course_slug != course_slug:
        return None
    db.session.delete(member)
    db.session.flush()
    return member
