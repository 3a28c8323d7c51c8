#!/usr/bin/env bash
# Prepare a machine for novaweb development and CI: system packages, .venv and
# the Python requirements. Idempotent and fast on repeat runs: apt-get runs only
# when a package is missing, pip only when requirements.txt changed.
# Never downloads browsers: browser tests use the system's chromium.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# --- system packages ------------------------------------------------------------
packages=(
  build-essential      # C compiler for mysqlclient when no wheel fits
  python3-dev
  default-libmysqlclient-dev
  pkg-config
  graphviz
  mariadb-client       # mariadb-dump / mariadb: db_snapshot, db_restore
  postgresql-client    # pg_dump / pg_restore
  chromium
)
missing=()
for pkg in "${packages[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing system packages (${missing[*]}) and no apt-get to install them"
    exit 1
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- virtualenv and requirements -----------------------------------------------
mkdir -p var/static   # STATIC_ROOT: WhiteNoise looks there (collectstatic fills it in production)
stamp=var/.requirements.sha
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
  rm -f "$stamp"
fi

want=$(sha256sum requirements.txt | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  log "installing requirements.txt into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  printf '%s\n' "$want" >"$stamp"
fi

# Byte-compile the project: every command then starts from cached bytecode, even where
# PYTHONDONTWRITEBYTECODE keeps Python from writing it (40 ms of each run otherwise).
# Only what changed is compiled again; a stale .pyc is never used (its source's mtime is checked).
.venv/bin/python -m compileall -q -j 0 manage.py novaweb inventory schema >/dev/null
