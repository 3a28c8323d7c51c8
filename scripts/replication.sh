#!/usr/bin/env bash
# A real primary/replica pair per server, on loopback, for tests and benchmarks.
#
#   scripts/replication.sh start      start both pairs (initializing them on first use); idempotent
#   scripts/replication.sh status     one line per server; exit 0 only when both replicas stream
#   scripts/replication.sh stop       stop all four servers
#   scripts/replication.sh stop replica   stop the two replicas only (start brings them back)
#   scripts/replication.sh destroy    stop and remove var/replication
#   scripts/replication.sh url pg|mysql primary|replica [DB]   a database URL
#
# PostgreSQL 15 streaming replication: primary 127.0.0.1:5441, hot standby
# 127.0.0.1:5442 (made by pg_basebackup -R), user postgres, trust auth, run as
# the postgres user. MariaDB GTID replication: primary 127.0.0.1:3341 (binary
# log, ROW format), replica 127.0.0.1:3342 (read_only, MASTER_USE_GTID=slave_pos),
# root without a password, run as mysql. Data, sockets and logs live under
# var/replication/{pg,mysql}/{primary,replica}/. The machine's main servers
# (3306, 5432) are never touched. Installs nothing: it uses the PostgreSQL and
# MariaDB packages scripts/services.sh installs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
BASE=${REPLICATION_DIR:-$ROOT/var/replication}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PRIMARY_PORT=5441
PG_REPLICA_PORT=5442
MY_PRIMARY_PORT=3341
MY_REPLICA_PORT=3342

log() { printf 'replication: %s\n' "$*" >&2; }

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
die() {
  log "$*"
  exit 1
}

# as_user USER COMMAND...: run COMMAND as USER (root runs it through runuser; anyone else as itself).
as_user() {
  local user=$1
  shift
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

owned_dir() { # owned_dir USER DIR
  mkdir -p "$2"
  [ "$(id -u)" -eq 0 ] && chown "$1:" "$2"
  return 0
}

# --- PostgreSQL ---------------------------------------------------------------------
pg_dir() { echo "$BASE/pg/$1"; }
pg_port() { [ "$1" = primary ] && echo $PG_PRIMARY_PORT || echo $PG_REPLICA_PORT; }
pg_ctl() { as_user postgres "$PG_BIN/pg_ctl" "$@"; }
pg_running() { pg_ctl -D "$(pg_dir "$1")/data" status >/dev/null 2>&1; }
psql_at() { # psql_at PORT SQL
  psql -X -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atc "$2"
}

pg_configure() { # pg_configure ROLE: the settings that differ per server, after initdb or pg_basebackup
  local d
  d=$(pg_dir "$1")
  as_user postgres tee "$d/data/conf.d.novaweb.conf" >/dev/null <<EOF
port = $(pg_port "$1")
listen_addresses = '127.0.0.1'
unix_socket_directories = '$d'
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
hot_standby_feedback = on
max_standby_streaming_delay = -1
shared_buffers = '32MB'
fsync = off
full_page_writes = off
log_min_messages = warning
EOF
  grep -q "conf.d.novaweb.conf" "$d/data/postgresql.conf" ||
    echo "include 'conf.d.novaweb.conf'" | as_user postgres tee -a "$d/data/postgresql.conf" >/dev/null
}

pg_start_server() {
  local role=$1 d
  d=$(pg_dir "$role")
  pg_running "$role" && return 0
  log "postgresql $role: starting on 127.0.0.1:$(pg_port "$role")"
  pg_ctl -D "$d/data" -l "$d/postgresql.log" -w -t 60 start >/dev/null ||
    die "postgresql $role did not start; see $d/postgresql.log"
}

pg_start() {
  [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL 15 binaries in $PG_BIN (scripts/services.sh installs PostgreSQL)"
  local primary replica
  primary=$(pg_dir primary)
  replica=$(pg_dir replica)
  if [ ! -f "$primary/data/PG_VERSION" ]; then
    owned_dir postgres "$BASE/pg"
    owned_dir postgres "$primary"
    log "postgresql primary: initdb $primary/data"
    as_user postgres "$PG_BIN/initdb" -D "$primary/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      >"$primary/initdb.log" 2>&1 || die "initdb failed; see $primary/initdb.log"
    pg_configure primary
  fi
  pg_start_server primary
  if [ ! -f "$replica/data/standby.signal" ]; then
    rm -rf "$replica"
    owned_dir postgres "$replica"
    log "postgresql replica: pg_basebackup from 127.0.0.1:$PG_PRIMARY_PORT"
    as_user postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p $PG_PRIMARY_PORT -U postgres -D "$replica/data" \
      -R -X stream -c fast >"$replica/basebackup.log" 2>&1 || die "pg_basebackup failed; see $replica/basebackup.log"
    pg_configure replica
  fi
  pg_start_server replica
}

pg_stop() { # pg_stop ROLE...
  local role
  for role in "$@"; do
    if pg_running "$role"; then
      log "postgresql $role: stopping"
      pg_ctl -D "$(pg_dir "$role")/data" -m fast -w stop >/dev/null
    fi
  done
}

pg_status() { # one line; true when the standby streams
  local state
  if ! pg_running primary; then
    echo "postgresql: primary 127.0.0.1:$PG_PRIMARY_PORT stopped"
    return 1
  fi
  if ! pg_running replica; then
    echo "postgresql: replica 127.0.0.1:$PG_REPLICA_PORT stopped"
    return 1
  fi
  state=$(psql_at $PG_REPLICA_PORT "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'not receiving')
    || ' paused=' || pg_is_wal_replay_paused()
    || ' replay_lsn=' || coalesce(pg_last_wal_replay_lsn()::text, '-')
    || ' lag=' || CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN '0'
       ELSE coalesce(round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::numeric, 1)::text, '?') END
    || 's'" 2>/dev/null) || state="not answering"
  echo "postgresql: replica 127.0.0.1:$PG_REPLICA_PORT of 127.0.0.1:$PG_PRIMARY_PORT: $state"
  [ "${state%% *}" = streaming ]
}

# --- MariaDB ------------------------------------------------------------------------
my_dir() { echo "$BASE/mysql/$1"; }
my_port() { [ "$1" = primary ] && echo $MY_PRIMARY_PORT || echo $MY_REPLICA_PORT; }
my_pid() {
  local pid
  pid=$(cat "$(my_dir "$1")/mysqld.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}
my_client() { # my_client PORT ARGS...
  local port=$1
  shift
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$port" --connect-timeout=2 -N -B "$@"
}

my_configure() {
  local role=$1 d
  d=$(my_dir "$role")
  mariadb_cnf "$d" "$(my_port "$role")" "$([ "$(id -u)" -eq 0 ] && echo mysql)" >"$d/my.cnf"
  cat >>"$d/my.cnf" <<EOF
server_id=$([ "$role" = primary ] && echo 1 || echo 2)
gtid_strict_mode=ON
EOF
  if [ "$role" = primary ]; then
    cat >>"$d/my.cnf" <<EOF
log_bin=$d/data/binlog
binlog_format=ROW
EOF
  else
    cat >>"$d/my.cnf" <<EOF
read_only=ON
relay_log=$d/data/relay
skip_slave_start=OFF
EOF
  fi
}

my_start_server() {
  local role=$1 d
  d=$(my_dir "$role")
  my_pid "$role" >/dev/null && return 0
  if [ ! -d "$d/data/mysql" ]; then
    owned_dir mysql "$BASE/mysql"
    owned_dir mysql "$d"
    my_configure "$role"
    owned_dir mysql "$d/data"
    log "mariadb $role: initializing $d/data"
    mariadb-install-db --defaults-file="$d/my.cnf" --auth-root-authentication-method=normal --skip-test-db \
      >"$d/install.log" 2>&1 || die "mariadb-install-db failed; see $d/install.log"
  fi
  my_configure "$role"
  log "mariadb $role: starting on 127.0.0.1:$(my_port "$role")"
  setsid mariadbd --defaults-file="$d/my.cnf" </dev/null >>"$d/mysqld.out" 2>&1 &
  local deadline=$((SECONDS + 60))
  until my_client "$(my_port "$role")" -e "SELECT 1" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && die "mariadb $role did not start; see $d/mysqld.log"
    sleep 0.2
  done
}

my_start() {
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] ||
    die "no mariadbd (scripts/services.sh installs MariaDB)"
  my_start_server primary
  my_start_server replica
  if [ -z "$(my_client $MY_REPLICA_PORT -e "SHOW SLAVE STATUS")" ]; then
    log "mariadb replica: CHANGE MASTER TO 127.0.0.1:$MY_PRIMARY_PORT, MASTER_USE_GTID=slave_pos"
    my_client $MY_REPLICA_PORT -e "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$MY_PRIMARY_PORT,
      MASTER_USER='root', MASTER_PASSWORD='', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos; START SLAVE"
  else
    my_client $MY_REPLICA_PORT -e "START SLAVE" 2>/dev/null || true
  fi
}

my_stop() { # my_stop ROLE...
  local role pid
  for role in "$@"; do
    pid=$(my_pid "$role") || continue
    log "mariadb $role: stopping (pid $pid)"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
      [ "$SECONDS" -ge "$deadline" ] && die "mariadb $role (pid $pid) did not stop within 60 s"
      sleep 0.2
    done
  done
}

my_status() {
  local role
  for role in primary replica; do
    if ! my_pid "$role" >/dev/null; then
      echo "mariadb: $role 127.0.0.1:$(my_port "$role") stopped"
      return 1
    fi
  done
  local row io sql lag pos
  row=$(mariadb --no-defaults -uroot -h127.0.0.1 -P$MY_REPLICA_PORT --connect-timeout=2 -e "SHOW SLAVE STATUS\G" 2>/dev/null) || row=
  io=$(sed -n 's/^ *Slave_IO_Running: //p' <<<"$row")
  sql=$(sed -n 's/^ *Slave_SQL_Running: //p' <<<"$row")
  lag=$(sed -n 's/^ *Seconds_Behind_Master: //p' <<<"$row")
  pos=$(sed -n 's/^ *Gtid_IO_Pos: //p' <<<"$row")
  echo "mariadb: replica 127.0.0.1:$MY_REPLICA_PORT of 127.0.0.1:$MY_PRIMARY_PORT:" \
    "io=${io:-?} sql=${sql:-?} gtid_io_pos=${pos:--} lag=${lag:-?}s"
  [ "$io" = Yes ] && [ "$sql" = Yes ]
}

cmd_status() {
  local rc=0
  pg_status || rc=1
  my_status || rc=1
  return "$rc"
}

# Wait until both replicas stream (the IO thread connects within a second or two).
wait_streaming() {
  local deadline=$((SECONDS + 30))
  until cmd_status >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      cmd_status
      die "the replicas do not stream after 30 s"
    fi
    sleep 0.2
  done
  cmd_status
}

case "${1:-}" in
start)
  pg_start
  my_start
  wait_streaming
  ;;
stop)
  case "${2:-}" in
  "")
    pg_stop replica primary
    my_stop replica primary
    ;;
  replica)
    pg_stop replica
    my_stop replica
    ;;
  *)
    echo "usage: $0 stop [replica]" >&2
    exit 2
    ;;
  esac
  ;;
status) cmd_status ;;
destroy)
  pg_stop replica primary
  my_stop replica primary
  rm -rf "$BASE"
  ;;
url)
  case "${2:-}:${3:-}" in
  pg:primary | postgresql:primary) echo "postgres://postgres@127.0.0.1:$PG_PRIMARY_PORT/${4:-postgres}" ;;
  pg:replica | postgresql:replica) echo "postgres://postgres@127.0.0.1:$PG_REPLICA_PORT/${4:-postgres}" ;;
  mysql:primary) echo "mysql://root@127.0.0.1:$MY_PRIMARY_PORT/${4:-}" ;;
  mysql:replica) echo "mysql://root@127.0.0.1:$MY_REPLICA_PORT/${4:-}" ;;
  *)
    echo "usage: $0 url pg|mysql primary|replica [DB]" >&2
    exit 2
    ;;
  esac
  ;;
*)
  echo "usage: $0 start | status | stop | destroy | url pg|mysql primary|replica [DB]" >&2
  exit 2
  ;;
esac
