"""Configuration: defaults, then the environment, then the test overrides."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from learning.core.files import create_once
from learning.core.urls import check_base_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"


class ConfigurationError(RuntimeError):
    """Raised when the app cannot start safely with the configuration it has."""


def database_url(app: Flask) -> str:
    """``DATABASE_URL`` if set (PostgreSQL in production), else SQLite in instance/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url or f"sqlite:///{Path(app.instance_path) / 'waymark.sqlite'}"


def load_secret_key(app: Flask) -> str | None:
    """Secret key from the environment, else from instance/secret_key.

    The file is created on first run only in debug or testing mode; in
    production the operator must provide a key, so sessions never silently
    depend on a key nobody chose.
    """
    key = os.environ.get("WAYMARK_SECRET_KEY") or os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(app.instance_path) / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip() or None
    if app.debug or app.testing:
        return write_secret_key(path)
    return None


def write_secret_key(path: Path) -> str:
    """Create a new random secret key file readable only by its owner (or read the one
    another process made at the same moment)."""
    key = secrets.token_urlsafe(48)
    if create_once(path, (key + "\n").encode()):
        return key
    return path.read_text().strip()


def configure(app: Flask, test_config: dict | None) -> None:
    """Fill ``app.config``; refuse to start without a real secret key."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    secure = os.environ.get("WAYMARK_SECURE_COOKIES", "0") == "1"
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=database_url(app),
        # hide_parameters: a logged database error never carries answers, names or hashes.
        # No pool_pre_ping: learning.ops.dbconnections checks pooled PostgreSQL
        # connections without a round trip.
        SQLALCHEMY_ENGINE_OPTIONS={"hide_parameters": True},
        COURSES_DIR=str(Path(os.environ.get("WAYMARK_COURSES_DIR", PROJECT_ROOT / "courses"))),
        QUIZZES_DIR=str(Path(os.environ.get("WAYMARK_QUIZZES_DIR", PROJECT_ROOT / "quizzes"))),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        # "__Host-" cookies are refused by browsers unless Secure, Path=/ and without Domain.
        SESSION_COOKIE_NAME="__Host-session" if secure else "session",
        # Our own remember-me token (Flask-Login's own remember cookie is never set).
        REMEMBER_TOKEN_COOKIE="__Host-remember" if secure else "remember",
        REMEMBER_TOKEN_DAYS=30,
        # Failed sign-ins allowed per window, per account and per client address.
        LOGIN_THROTTLE_STORAGE=os.environ.get("REDIS_URL") or "database",
        LOGIN_FAILURES_PER_ACCOUNT=5,
        LOGIN_FAILURES_PER_ADDRESS=20,
        LOGIN_THROTTLE_SECONDS=15 * 60,
        # Admins, managers and trainers need a second factor; off by default in debug mode.
        REQUIRE_MFA=os.environ.get("WAYMARK_REQUIRE_MFA", "0" if app.debug else "1") == "1",
        MFA_STEP_UP_SECONDS=15 * 60,
        # Drafts touching a final assessment always need a reviewer; this makes every draft.
        AUTHOR_REVIEW_REQUIRED=os.environ.get("WAYMARK_AUTHOR_REVIEW_REQUIRED", "0") == "1",
        PERMANENT_SESSION_LIFETIME=60 * 60 * 12,
        WTF_CSRF_TIME_LIMIT=None,  # an officer may read a lesson for hours before submitting
        BABEL_DEFAULT_LOCALE="en",
        # Empty: offer English plus every language with a compiled catalogue in translations/.
        LANGUAGES=[],
        TRANSLATIONS_DIR=str(PROJECT_ROOT / "translations"),
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
        SEND_FILE_MAX_AGE_DEFAULT=60 * 60 * 24 * 365,
        BASE_URL=os.environ.get("WAYMARK_BASE_URL", "").strip(),
        # The staff import takes files of up to 5 MB; nothing else comes near 6 MB.
        MAX_CONTENT_LENGTH=6 * 1024 * 1024,
        FONT_DIR=os.environ.get("WAYMARK_FONT_DIR", ""),
        # Rate limits are shared between app servers through Redis when it is configured.
        RATELIMIT_STORAGE_URI=os.environ.get("REDIS_URL") or "memory://",
        REDIS_URL=os.environ.get("REDIS_URL", "").strip(),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        PROXIES=os.environ.get("WAYMARK_PROXIES", "0").strip(),
        # "json": one JSON object per log line (gunicorn.conf.py's default); else plain text.
        LOG_FORMAT=os.environ.get("WAYMARK_LOG_FORMAT", "plain").strip().lower(),
        EXPIRING_WITHIN_DAYS=int(os.environ.get("WAYMARK_EXPIRING_WITHIN_DAYS", "90")),
        # Days current holders get to recertify when a publication asks for it.
        RECERTIFY_AFTER_CHANGE_DAYS=int(os.environ.get("WAYMARK_RECERTIFY_AFTER_CHANGE_DAYS",
                                                       "90")),
        VERIFY_RATE_LIMIT=os.environ.get("WAYMARK_VERIFY_RATE_LIMIT", "30 per minute"),
        RESET_RATE_LIMIT=os.environ.get("WAYMARK_RESET_RATE_LIMIT", "10 per hour"),
        EXPORT_RATE_LIMIT=os.environ.get("WAYMARK_EXPORT_RATE_LIMIT", "3 per hour"),
        JOB_CHUNK=int(os.environ.get("WAYMARK_JOB_CHUNK", "50")),
        JOB_RETRIES=int(os.environ.get("WAYMARK_JOB_RETRIES", "3")),
        JOB_TIMEOUT=int(os.environ.get("WAYMARK_JOB_TIMEOUT", "3600")),
        JOB_HEARTBEAT_SECONDS=int(os.environ.get("WAYMARK_JOB_HEARTBEAT_SECONDS", "120")),
        JOB_MAINTENANCE_SECONDS=int(os.environ.get("WAYMARK_JOB_MAINTENANCE_SECONDS", "60")),
        JOB_WORKER_TTL=int(os.environ.get("WAYMARK_JOB_WORKER_TTL", "60")),
        # Test hooks, off by default: a pause after each item, a crash after N items.
        JOB_ITEM_DELAY=float(os.environ.get("WAYMARK_JOB_ITEM_DELAY", "0")),
        JOB_CRASH_AFTER_ITEMS=int(os.environ.get("WAYMARK_JOB_CRASH_AFTER_ITEMS", "0")),
        # Departed people's personal data is anonymised this many years after deactivation.
        RETENTION_YEARS=int(os.environ.get("WAYMARK_RETENTION_YEARS", "6")),
    )
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(app)
    if not app.config["SECRET_KEY"]:
        raise ConfigurationError(
            "No secret key. Set WAYMARK_SECRET_KEY in the environment, or create "
            f"{Path(app.instance_path) / SECRET_KEY_FILE} holding a long random string, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'."
        )
    check_public_address(app)
    check_proxies(app)


def check_public_address(app: Flask) -> None:
    """Refuse a malformed ``BASE_URL``, and a missing one outside debug and testing.

    Links in certificates, e-mails and API pages are built on it, never on the
    request's Host header, so production must say where it lives.
    """
    value = app.config.get("BASE_URL") or ""
    if not value:
        if app.debug or app.testing:
            return
        raise ConfigurationError(
            "No public address. Set WAYMARK_BASE_URL to the address people use to reach "
            "Waymark, e.g. WAYMARK_BASE_URL=https://training.agency.example; certificate "
            "QR codes, invitation links and API links are built on it.")
    problem = check_base_url(value)
    if problem:
        raise ConfigurationError(f"WAYMARK_BASE_URL={value!r} is not usable: {problem}.")


def check_proxies(app: Flask) -> None:
    """``PROXIES`` as a small whole number: how many X-Forwarded-* hops to believe."""
    value = str(app.config.get("PROXIES", 0)).strip()
    if not value.isascii() or not value.isdigit() or int(value) > 10:
        raise ConfigurationError(
            f"WAYMARK_PROXIES={value!r} is not usable: give the number of reverse proxies in "
            "front of Waymark (0 when clients connect directly, 1 behind one nginx).")
    app.config["PROXIES"] = int(value)
