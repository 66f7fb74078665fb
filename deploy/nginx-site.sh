#!/bin/sh
# Print the nginx site for Waymark: deploy/nginx-site.sh SERVER_NAME STATIC_ROOT PORT...
# e.g. deploy/nginx-site.sh training.agency.example /opt/waymark/app/static 8001 8002 8003
# Each PORT is one gunicorn app server on 127.0.0.1 (systemd unit waymark-app@PORT).
set -eu
if [ "$#" -lt 3 ]; then
  echo "usage: $0 SERVER_NAME STATIC_ROOT PORT [PORT...]" >&2
  exit 2
fi
server_name=$1
static_root=$2
shift 2
case "$server_name$static_root" in
  *[!A-Za-z0-9._/:-]*) echo "$0: unexpected characters in the name or folder" >&2; exit 2 ;;
esac
template=$(dirname "$0")/nginx/waymark.conf.in
upstreams=""
for port in "$@"; do
  case "$port" in
    ''|*[!0-9]*) echo "$0: not a port: $port" >&2; exit 2 ;;
  esac
  upstreams="$upstreams    server 127.0.0.1:$port max_fails=3 fail_timeout=10s;\\n"
done
sed -e "s|@SERVER_NAME@|$server_name|g" -e "s|@STATIC_ROOT@|$static_root|g" \
    -e "s|^ *@UPSTREAMS@|$upstreams|" "$template" | sed -e '/^$/N;/^\n$/D'
