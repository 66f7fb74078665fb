"""Who may do what: role decorators, load-or-404, and agency scoping.

Every feature uses these, so an access rule lives in one place. Managers see
people only through ``scope_people``; no view filters by agency by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learning.accounts.models import User
from learning.accounts.sessions import mfa_is_fresh
from learning.core.inputs import wants_json
from learning.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def _wants_json() -> bool:
    return request.path.startswith("/api/") or wants_json()


def _deny(status: int) -> Any:
    if _wants_json():
        response = jsonify(error="forbidden" if status == 403 else "unauthorised")
        response.status_code = status
        return response
    if status == 401:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    abort(status)


def role_required(*roles: str) -> Callable[[F], F]:
    """Let through signed-in users holding one of ``roles`` (admins always pass)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user._get_current_object()  # one proxy lookup on every view
            if not user.is_authenticated:
                return _deny(401)
            if not user.has_role(*roles):
                return _deny(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def login_required(view: F) -> F:
    """Let through any signed-in user."""
    return role_required("officer", "trainer", "manager")(view)


def fresh_mfa_required(view: F) -> F:
    """Ask again for the second factor before a sensitive change (POST) when it was given
    more than 15 minutes ago; pages that only show something are not held up.

    Put it below ``role_required``: it assumes a signed-in user.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.method in ("GET", "HEAD", "OPTIONS") or mfa_is_fresh():
            return view(*args, **kwargs)
        flash(_("Confirm it is you with your second factor, then make the change again."),
              "info")
        return redirect(url_for("mfa.confirm", next=request.path))

    return wrapped  # type: ignore[return-value]


@dataclass(frozen=True)
class Viewer:
    """Who is looking, detached from the database session.

    Streamed responses (exports) run after the view returns, when the session that
    loaded ``current_user`` may be gone; they take one of these instead.
    """

    id: int
    role: str
    agency_id: int | None
    unit_id: int | None

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user.id, user.role, user.agency_id, user.unit_id)


def scope_people(query: sa.Select, viewer: User | Viewer) -> sa.Select:
    """Restrict a query over ``User`` to the people ``viewer`` may see.

    Admins see everyone; a manager sees their agency, or only their unit when
    they belong to one; anyone else sees only themselves.
    """
    if viewer.role == "admin":
        return query
    if viewer.role == "manager" and viewer.agency_id is not None:
        query = query.where(User.agency_id == viewer.agency_id)
        if viewer.unit_id is not None:
            query = query.where(User.unit_id == viewer.unit_id)
        return query
    return query.where(User.id == viewer.id)


def visible_person_or_404(user_id: int, viewer: User) -> User:
    """Load one person the viewer may see, or 404 (never 403, which would confirm existence)."""
    person = db.session.scalar(scope_people(sa.select(User).where(User.id == user_id), viewer))
    if person is None:
        abort(404)
    return person
