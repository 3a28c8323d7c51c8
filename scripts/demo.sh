#!/usr/bin/env bash
# A populated novaweb on this machine in one command (SQLite under var/ unless
# NOVA_DATABASE_URL / DATABASE_URL say otherwise):
#   ./scripts/demo.sh [--instances N] [--port P]
# Sets up .venv, creates Django's tables and the role groups, syncs the Nova
# schema, seeds a demo cloud when the Nova database has no instances yet, creates
# the demo login (random password, printed once) and serves the admin on
# 127.0.0.1 with runserver, DEBUG off: WhiteNoise serves the admin's CSS and JS
# (novaweb.settings), so the pages are styled without collectstatic.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

instances=2000
port=8000
while [ $# -gt 0 ]; do
  case "$1" in
    --instances) instances="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    *) echo "usage: $0 [--instances N] [--port P]" >&2; exit 2 ;;
  esac
done

./scripts/setup.sh
manage() { .venv/bin/python manage.py "$@"; }

manage migrate --verbosity 0           # Django's own tables (never inside the Nova database)
manage novaweb_roles >/dev/null        # the groups viewer, flavor manager, schema operator
manage db_sync                         # the Nova schema, at Essex's version 82
rc=0
manage seed_demo --instances "$instances" || rc=$?
case $rc in
  0) ;;
  1) echo "demo: the Nova database already has instances; keeping them" ;;
  *) exit "$rc" ;;
esac
login=$(manage demo_user)
echo
echo "novaweb demo: http://127.0.0.1:${port}/admin/"
echo "  ${login#demo user * }"
echo "  dashboard: http://127.0.0.1:${port}/admin/inventory/dashboard/"
echo "  a login with less: ./manage.py demo_user --role viewer (or flavor-manager, schema-operator)"
echo
exec .venv/bin/python manage.py runserver --noreload "127.0.0.1:${port}"   # a demo: no reloader
