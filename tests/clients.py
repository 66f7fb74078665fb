"""A test client for tests where several browsers (or none) sign in within one test."""

from __future__ import annotations

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient


class Browser(FlaskClient):
    """A test client whose every request starts without a cached user, as in production.

    The test's app context is shared by every request, and Flask-Login caches the
    signed-in user in ``g``: without this, one browser would see another's user.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def browsers(app):
    """Make ``app.test_client()`` (and the ``client`` fixture) return a ``Browser``."""
    app.test_client_class = Browser
