#!/bin/sh
# Install or update Waymark on Debian 12 from Debian packages: nginx in front of N gunicorn
# app servers, PostgreSQL, Redis and job workers. Safe to run again (updates the code,
# keeps the configuration, database and keys). Run as root from a checkout:
#   WAYMARK_SERVER_NAME=training.agency.example WAYMARK_APP_PORTS="8001 8002 8003" \
#     WAYMARK_WORKERS=1 sh deploy/install.sh
set -eu

SERVER_NAME=${WAYMARK_SERVER_NAME:-$(hostname -f)}
APP_PORTS=${WAYMARK_APP_PORTS:-8001 8002}
WORKERS=${WAYMARK_WORKERS:-1}
BASE_URL=${WAYMARK_BASE_URL:-http://$SERVER_NAME}
SOURCE=$(cd "$(dirname "$0")/.." && pwd)
APP=/opt/waymark/app
VENV=/opt/waymark/venv
DATA=/var/lib/waymark
ENV_FILE=/etc/waymark/waymark.env

say() { printf '==> %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "Run as root (it installs packages and system services)." >&2
  exit 1
fi

say "Debian packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light postgresql \
  postgresql-client redis-server python3-venv fonts-dejavu-core rsync >/dev/null

say "System user and folders"
id waymark >/dev/null 2>&1 || useradd --system --home-dir "$DATA" --shell /usr/sbin/nologin waymark
install -d -o root -g root -m 0755 /opt/waymark
install -d -o waymark -g waymark -m 0750 "$DATA" "$DATA/instance" "$DATA/backups"
install -d -o root -g waymark -m 0750 /etc/waymark

say "Code in $APP"
rsync -a --delete --exclude .git --exclude .venv --exclude instance --exclude '*.pyc' \
  "$SOURCE/" "$APP/"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q -e "$APP"
install -m 0755 "$APP/deploy/waymark-flask" /usr/local/bin/waymark-flask

say "Configuration in $ENV_FILE"
if [ ! -e "$ENV_FILE" ]; then
  secret=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))')
  db_password=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')
  sed -e "s|^DATABASE_URL=.*|DATABASE_URL=postgresql://waymark:$db_password@127.0.0.1:5432/waymark|" \
      -e "s|^WAYMARK_SECRET_KEY=.*|WAYMARK_SECRET_KEY=$secret|" \
      -e "s|^WAYMARK_BASE_URL=.*|WAYMARK_BASE_URL=$BASE_URL|" \
      "$APP/deploy/waymark.env.example" > "$ENV_FILE.new"
  case "$BASE_URL" in
    https://*) ;;
    *) sed -i -e "s|^WAYMARK_SECURE_COOKIES=.*|WAYMARK_SECURE_COOKIES=0|" "$ENV_FILE.new" ;;
  esac
  chown root:waymark "$ENV_FILE.new"
  chmod 0640 "$ENV_FILE.new"
  mv "$ENV_FILE.new" "$ENV_FILE"
  say "Wrote $ENV_FILE with a new secret key and database password: review it."
fi

say "PostgreSQL and Redis"
systemctl enable --now postgresql redis-server >/dev/null
if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'waymark'" | grep -q 1; then
  db_password=$(sed -n 's|^DATABASE_URL=postgresql://waymark:\([^@]*\)@.*|\1|p' "$ENV_FILE")
  # The password goes through stdin, never a command line.
  printf "CREATE ROLE waymark LOGIN PASSWORD '%s';\n" "$db_password" \
    | runuser -u postgres -- psql -q
fi
if ! runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'waymark'" | grep -q 1; then
  runuser -u postgres -- createdb -O waymark -E UTF8 waymark
fi

say "Database schema and catalogue"
waymark-flask db upgrade
waymark-flask content sync

say "systemd units"
# Every unit in deploy/systemd; the timers run the scheduled commands (backup, mail,
# reminders, compliance snapshot, retention purge, audit check).
TIMERS=""
for path in "$APP"/deploy/systemd/*; do
  unit=$(basename "$path")
  install -m 0644 "$path" "/etc/systemd/system/$unit"
  case "$unit" in *.timer) TIMERS="$TIMERS $unit" ;; esac
done
systemctl daemon-reload
# shellcheck disable=SC2086  # one argument per timer
systemctl enable waymark.target waymark-notify $TIMERS >/dev/null
systemctl restart waymark-notify
for port in $APP_PORTS; do
  systemctl enable "waymark-app@$port" >/dev/null
  systemctl reload-or-restart "waymark-app@$port"
done
if grep -q '^REDIS_URL=.' "$ENV_FILE"; then
  for n in $(seq 1 "$WORKERS"); do
    systemctl enable "waymark-worker@$n" >/dev/null
    systemctl restart "waymark-worker@$n"
  done
fi
# shellcheck disable=SC2086
systemctl start waymark.target $TIMERS

say "nginx"
# shellcheck disable=SC2086  # one argument per port
sh "$APP/deploy/nginx-site.sh" "$SERVER_NAME" "$APP/static" $APP_PORTS \
  > /etc/nginx/sites-available/waymark
ln -sf /etc/nginx/sites-available/waymark /etc/nginx/sites-enabled/waymark
rm -f /etc/nginx/sites-enabled/default
nginx -t -q
systemctl enable nginx >/dev/null
systemctl reload-or-restart nginx

say "Done: $BASE_URL (readiness: curl -s http://127.0.0.1/readyz -H 'Host: $SERVER_NAME')"
