"""deploy/: the nginx site nginx accepts, and an env file documenting every setting."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.pgserver import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def render_site(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(DEPLOY / "nginx-site.sh"), *args], capture_output=True,
                          text=True, check=False)


def nginx_with_site(tmp_path: Path, site: str) -> list[str]:
    """An nginx.conf in tmp_path that includes the site; the command that runs it."""
    (tmp_path / "waymark.conf").write_text(site)
    temp = tmp_path / "temp"
    temp.mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n"
        + "".join(f"  {kind}_temp_path {temp}/{kind};\n"
                  for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + f"  include {tmp_path}/waymark.conf;\n}}\n")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    return [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
            "-e", str(tmp_path / "error.log")]


def test_nginx_site_proxies_to_every_app_server_and_nginx_accepts_it(tmp_path):
    site = render_site("training.example", str(ROOT / "static"), "8001", "8002", "8003")
    assert site.returncode == 0, site.stderr
    text = site.stdout
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", text) == ["8001", "8002", "8003"]
    assert "server_name training.example;" in text and "@" not in text.replace("$", "")
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme",
                   "X-Request-Id $request_id", "client_max_body_size 6m"):
        assert header in text
    checked = subprocess.run([*nginx_with_site(tmp_path, text), "-t"],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_access_log_holds_no_link_token_code_or_query(tmp_path):
    port = free_port()
    site = render_site("127.0.0.1", str(ROOT / "static"), str(free_port())).stdout
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace(
        "listen [::]:80;", "").replace("/var/log/nginx/access.log", str(tmp_path / "access.log"))
    command = nginx_with_site(tmp_path, site)
    subprocess.run(command, check=True, capture_output=True)  # starts, then daemonises
    secrets = ["ResetTok3n", "Invite-T0ken", "VerifyC0de", "Payl0ad", "Cert1ficate", "Nexttok"]
    try:
        for path in ("/reset/ResetTok3n", "/invite/Invite-T0ken?next=/Nexttok",
                     "/verify/VerifyC0de?p=Payl0ad", "/certificates/Cert1ficate.pdf",
                     "/courses/?token=Nexttok"):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                             headers={"Referer": "http://x/reset/ResetTok3n"})
            with contextlib.suppress(urllib.error.HTTPError):  # no app server: 502
                urllib.request.urlopen(request, timeout=10).close()
    finally:
        subprocess.run([*command, "-s", "stop"], check=False, capture_output=True)
    log = (tmp_path / "access.log").read_text()
    assert log.count("\n") == 5, log
    assert [secret for secret in secrets if secret in log] == []
    assert '"GET /reset/[redacted] HTTP/1.1" 502' in log and "GET /courses/ HTTP" in log


def test_nginx_site_refuses_odd_arguments():
    assert render_site("x.example", "/srv/static", "8001").returncode == 0
    assert render_site("x.example", "/srv/static").returncode == 2  # no app server
    assert render_site("x.example", "/srv/static", "80; evil").returncode == 2
    assert render_site("x.example;", "/srv/static", "8001").returncode == 2


def test_env_example_documents_every_setting_the_code_reads():
    read = set()
    for path in [*ROOT.glob("learning/**/*.py"), ROOT / "gunicorn.conf.py"]:
        # os.environ: a WSGI environ (the lesson fast path) holds a request, not settings
        read |= set(re.findall(r"os\.environ(?:\.get)?[\[(]\"([A-Z_]+)\"", path.read_text()))
        # setting("SMTP_HOST", ...) and the like read WAYMARK_SMTP_HOST from the environment
        read |= {f"WAYMARK_{name}" for name in re.findall(
            r"\b(?:_config|setting|text_setting)\(\"([A-Z_]+)\"", path.read_text())}
    documented = set(re.findall(r"^#?([A-Z_]+)=", (DEPLOY / "waymark.env.example").read_text(),
                                re.MULTILINE))
    read -= {"SECRET_KEY"}  # the older name of WAYMARK_SECRET_KEY, kept for compatibility
    assert {"DATABASE_URL", "REDIS_URL", "WAYMARK_PROXIES", "WAYMARK_BASE_URL"} <= read
    assert read - documented == set()


def test_units_run_gunicorn_with_the_repository_settings():
    app = (DEPLOY / "systemd/waymark-app@.service").read_text()
    assert "gunicorn -c /opt/waymark/app/gunicorn.conf.py -b 127.0.0.1:%i" in app
    assert "EnvironmentFile=/etc/waymark/waymark.env" in app
    assert int(re.search(r"TimeoutStopSec=(\d+)", app).group(1)) > 30  # > graceful_timeout


def test_every_scheduled_command_has_a_timer_a_service_and_a_real_command(app):
    """The deployment runs the commands the README schedules: each timer has its service,
    a calendar systemd accepts, and a flask command that exists; the outbox sender is a
    service of its own that the install enables."""
    units = DEPLOY / "systemd"
    timers = sorted(units.glob("*.timer"))
    assert {t.stem for t in timers} >= {"waymark-backup", "waymark-reminders",
                                        "waymark-snapshot", "waymark-audit", "waymark-purge"}
    runner = app.test_cli_runner()
    analyze = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"

    def command_exists(service: str) -> None:
        words = re.search(r"^ExecStart=.*?(?:waymark-flask|venv/bin/flask) ((?:[a-z][a-z-]* ?)+)",
                          service, re.MULTILINE).group(1).split()
        result = runner.invoke(args=[*words, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, (words, result.output)

    for timer in timers:
        command_exists((units / f"{timer.stem}.service").read_text())
        calendar = re.search(r"^OnCalendar=(.+)$", timer.read_text(), re.MULTILINE).group(1)
        parsed = subprocess.run([analyze, "calendar", calendar], capture_output=True, text=True,
                                check=False)
        assert parsed.returncode == 0, (timer.name, parsed.stderr)
        assert "WantedBy=timers.target" in timer.read_text()
    sender = (units / "waymark-notify.service").read_text()
    command_exists(sender)
    assert "notify send --every 30" in sender and "WantedBy=waymark.target" in sender
    install = (DEPLOY / "install.sh").read_text()
    assert '"$APP"/deploy/systemd/*' in install  # every unit file is installed...
    assert "systemctl enable waymark.target waymark-notify $TIMERS" in install  # ...enabled
    assert "systemctl start waymark.target $TIMERS" in install
