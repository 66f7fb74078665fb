"""``/agency/staff/`` and ``/invite/<token>``: officers by unit, CSV import, invitations."""

from flask import Blueprint

bp = Blueprint("staff", __name__)
