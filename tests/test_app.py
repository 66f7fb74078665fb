"""Configuration, migrations and the health check."""

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from learning import create_app
from learning.config import ConfigurationError
from learning.extensions import db


def test_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("WAYMARK_SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigurationError, match="No secret key"):
        create_app_in(tmp_path, {})


def create_app_in(instance: Path, config: dict):
    import learning

    original = learning.WaymarkFlask

    class InstanceFlask(original):
        def __init__(self, *args, **kwargs):
            kwargs["instance_path"] = str(instance)
            super().__init__(*args, **kwargs)

    learning.WaymarkFlask = InstanceFlask
    try:
        return create_app({"BASE_URL": "https://waymark.test", **config})
    finally:
        learning.WaymarkFlask = original


def test_secret_key_from_environment_or_generated_file(tmp_path, monkeypatch):
    monkeypatch.setenv("WAYMARK_SECRET_KEY", "from-the-environment")
    app = create_app_in(tmp_path, {})
    assert app.config["SECRET_KEY"] == "from-the-environment"
    monkeypatch.delenv("WAYMARK_SECRET_KEY")
    app = create_app_in(tmp_path, {"TESTING": True})
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) >= 40
    # Once the file exists, production mode uses it.
    assert create_app_in(tmp_path, {}).config["SECRET_KEY"] == key_file.read_text().strip()


def test_database_url_selects_postgresql(tmp_path, monkeypatch):
    monkeypatch.setenv("WAYMARK_SECRET_KEY", "k")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/waymark")
    app = create_app_in(tmp_path, {})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == \
        "postgresql+psycopg://u:p@db.example:5432/waymark"
    monkeypatch.delenv("DATABASE_URL")
    app = create_app_in(tmp_path, {})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'waymark.sqlite'}"


def test_migrations_build_exactly_the_models(app_config, backend, postgres_url_or_none):
    """Alembic's upgrade gives the same schema as the models: nothing is left unmigrated."""
    if backend == "postgresql":
        app_config["SQLALCHEMY_DATABASE_URI"] = postgres_url_or_none
    app = create_app(app_config)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert diff == []
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {"user_account", "course_version", "course_lesson", "lesson_progress"} <= tables


def test_migration_0032_redacts_links_in_messages_already_sent(app_config, backend,
                                                               postgres_url_or_none):
    """Rows sent before sealing lose their live links; unsent rows and reminders are kept."""
    from learning.accounts.models import User
    from learning.agency.reminders_models import Notification
    from learning.timeutil import utcnow

    if backend == "postgresql":
        app_config["SQLALCHEMY_DATABASE_URI"] = postgres_url_or_none
    app = create_app(app_config)
    link = "open https://w.example/reset/AbC_123-xyz\nor https://w.example/invite/Q-9\n"
    with app.app_context():
        upgrade()
        user = User(email="a@a.test", display_name="A", role="officer", active=True)
        db.session.add(user)
        db.session.flush()
        rows = {name: Notification(user_id=user.id, kind=kind, dedupe_key=name, subject="s",
                                   body=link, sent_at=sent)
                for name, kind, sent in [("sent", "password_reset", utcnow()),
                                         ("invited", "invitation", utcnow()),
                                         ("queued", "welcome", None),
                                         ("digest", "officer_digest", utcnow())]}
        db.session.add_all(rows.values())
        db.session.commit()
        downgrade(revision="0030")
        upgrade()
        db.session.expire_all()
        bodies = {name: db.session.get(Notification, row.id).body for name, row in rows.items()}
    redacted = "open https://w.example/reset/[redacted]\nor https://w.example/invite/[redacted]\n"
    assert bodies == {"sent": redacted, "invited": redacted, "queued": link, "digest": link}


def test_migration_0033_gives_older_api_tokens_ninety_days(app_config, backend,
                                                           postgres_url_or_none):
    """Tokens made before expiry dates existed stop in 90 days, not at once nor never."""
    from learning.accounts.service import get_or_create_agency
    from learning.api.models import ApiToken
    from learning.timeutil import utcnow

    if backend == "postgresql":
        app_config["SQLALCHEMY_DATABASE_URI"] = postgres_url_or_none
    app = create_app(app_config)
    with app.app_context():
        upgrade()
        agency_id = get_or_create_agency("Agency A", "agency-a").id
        db.session.commit()
        downgrade(revision="0032")
        db.session.execute(sa.text(
            "INSERT INTO api_token (agency_id, name, token_hash, prefix, created_at) "
            "VALUES (:agency, 'Old', :hash, 'wm_old', :now)"),
            {"agency": agency_id, "hash": "0" * 64, "now": utcnow()})
        db.session.commit()
        upgrade()
        token = db.session.scalar(sa.select(ApiToken))
        left = token.expires_at - utcnow()
    assert timedelta(days=89) < left <= timedelta(days=90)


@pytest.fixture
def postgres_url_or_none(backend, request):
    if backend != "postgresql":
        return None
    server = request.getfixturevalue("postgres")
    return server.create_database(f"migrations_{id(request)}")


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
