#!/usr/bin/env bash
# Make sure the database servers the tests use are running:
#   MariaDB    root, no password, 127.0.0.1:3306
#   PostgreSQL postgres, trust auth, 127.0.0.1:5432
# Installs them with apt-get when missing, starts them when stopped, waits up
# to 60 s for each and prints one line per service.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# wait_for SECONDS COMMAND...: true once COMMAND succeeds, false after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.5
  done
}

# --- MariaDB --------------------------------------------------------------------
mariadb_ping() { mariadb-admin -uroot -h127.0.0.1 -P3306 --connect-timeout=2 ping; }

fresh_mariadb=
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  log "installing MariaDB"
  apt_install mariadb-server mariadb-client
  fresh_mariadb=1
fi
if ! mariadb_ping >/dev/null 2>&1; then
  log "starting MariaDB"
  as_root install -d -o mysql -g mysql -m 0755 /run/mysqld
  as_root start-stop-daemon --start --oknodo --background --chuid mysql \
    --pidfile /run/mysqld/mysqld.pid --exec /usr/sbin/mariadbd
fi
if ! wait_for 60 mariadb_ping; then
  log "MariaDB did not answer within 60 s"
  exit 1
fi
if [ -n "$fresh_mariadb" ]; then
  # A fresh Debian install lets root in through the unix socket only; the tests
  # connect over TCP as root without a password.
  as_root mariadb -uroot -e \
    "ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')"
fi
if ! version=$(mariadb -uroot -h127.0.0.1 -P3306 -N -B -e 'SELECT VERSION()' 2>&1); then
  log "MariaDB is up but root@127.0.0.1 without a password is refused: $version"
  exit 1
fi
echo "mariadb: up ($version) at 127.0.0.1:3306"

# --- PostgreSQL ---------------------------------------------------------------------
pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }

fresh_pg=
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  log "installing PostgreSQL"
  apt_install postgresql
  fresh_pg=1
fi
pg_version=$(ls /etc/postgresql | sort -V | tail -n 1)
if [ -n "$fresh_pg" ]; then
  # The tests connect as postgres over TCP without a password: trust localhost.
  hba=/etc/postgresql/$pg_version/main/pg_hba.conf
  as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
fi
if ! pg_ready; then
  log "starting PostgreSQL $pg_version"
  # "already running" (still starting up) is fine: the wait below decides.
  as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start || true
elif [ -n "$fresh_pg" ]; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
fi
if ! wait_for 60 pg_ready; then
  log "PostgreSQL did not answer within 60 s"
  exit 1
fi
if ! version=$(psql -X -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc 'SHOW server_version' 2>&1); then
  log "PostgreSQL is up but postgres@127.0.0.1 is refused: $version"
  exit 1
fi
echo "postgresql: up ($version) at 127.0.0.1:5432"
