#!/usr/bin/env bash
# A 3-node MariaDB Galera cluster on loopback, for tests and benchmarks.
#
#   scripts/galera-cluster.sh start [N]     start the cluster (or only node N)
#   scripts/galera-cluster.sh stop [N]      stop the cluster cleanly (or only node N)
#   scripts/galera-cluster.sh status        one line per node; exit 0 when all 3 are Synced
#   scripts/galera-cluster.sh destroy       stop and remove var/galera
#   scripts/galera-cluster.sh url N [DB]    the mysql:// URL of node N
#
# Node N (1..3) listens for SQL on 127.0.0.1:$((GALERA_PORT_BASE + N)) (4001-4003),
# for Galera replication on 4567N, IST on 4568N and SST (rsync) on 4444N, and
# keeps its data, socket and log under var/galera/nodeN/. root has no password,
# like the test server on 3306, which this script never touches.
# The first start initializes each data directory (mariadb-install-db) and
# bootstraps the cluster from node 1; later starts bootstrap from the node that
# was stopped last (Galera's safe_to_bootstrap). Installs galera-4 with apt-get
# when it is missing; exits 3 when it cannot.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
BASE=${GALERA_DIR:-$ROOT/var/galera}
PORT_BASE=${GALERA_PORT_BASE:-4000}
PROVIDER=/usr/lib/galera/libgalera_smm.so
NODES=(1 2 3)
# As root, the nodes run as mysql: rsync's SST daemon, started by mariadbd,
# would otherwise switch to "nobody" and could not write root's files.
RUN_AS=
[ "$(id -u)" -eq 0 ] && RUN_AS=mysql
EXIT_UNAVAILABLE=3

log() { printf 'galera: %s\n' "$*" >&2; }

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
die() {
  log "$2"
  exit "$1"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    return 1
  fi
}

ensure_packages() {
  local missing=()
  [ -e "$PROVIDER" ] || missing+=(galera-4)
  command -v rsync >/dev/null 2>&1 || missing+=(rsync)
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if ! command -v apt-get >/dev/null 2>&1 ||
    ! as_root apt-get update -qq ||
    ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    die "$EXIT_UNAVAILABLE" "cannot install ${missing[*]} (need apt-get and root): no Galera cluster on this machine"
  fi
  [ -e "$PROVIDER" ] || die "$EXIT_UNAVAILABLE" "galera-4 installed but $PROVIDER is missing"
}

dir() { echo "$BASE/node$1"; }
port() { echo $((PORT_BASE + $1)); }
sock() { echo "$(dir "$1")/mysqld.sock"; }
pidfile() { echo "$(dir "$1")/mysqld.pid"; }
client() {
  local n=$1
  shift
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$(port "$n")" --connect-timeout=2 -N -B "$@"
}

pid_of() {
  local pid
  pid=$(cat "$(pidfile "$1")" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

write_config() {
  local n=$1 d
  d=$(dir "$n")
  local peers="127.0.0.1:45671,127.0.0.1:45672,127.0.0.1:45673"
  # Small: three of them share a test machine.
  mariadb_cnf "$d" "$(port "$n")" "$RUN_AS" 128M >"$d/my.cnf"
  cat >>"$d/my.cnf" <<EOF
# Galera's requirements.
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$PROVIDER
wsrep_cluster_name=novaweb_galera
wsrep_cluster_address=gcomm://$peers
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1:4567$n
wsrep_node_incoming_address=127.0.0.1:$(port "$n")
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:4567$n;ist.recv_addr=127.0.0.1:4568$n;gcache.size=64M"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:4444$n
EOF
}

initialize() {
  local n=$1 d
  d=$(dir "$n")
  [ -d "$d/data/mysql" ] && return 0
  mkdir -p "$d/data"
  [ -n "$RUN_AS" ] && chown -R "$RUN_AS:" "$d"
  write_config "$n"
  log "node $n: initializing $d/data"
  if ! mariadb-install-db --defaults-file="$d/my.cnf" --auth-root-authentication-method=normal \
    --skip-test-db >"$d/install.log" 2>&1; then
    die 1 "node $n: mariadb-install-db failed; see $d/install.log"
  fi
}

# The node to bootstrap a stopped cluster from: safe_to_bootstrap, else the highest seqno.
bootstrap_node() {
  local n best=1 best_seqno=-2 seqno
  for n in "${NODES[@]}"; do
    local grastate
    grastate="$(dir "$n")/data/grastate.dat"
    if grep -q '^safe_to_bootstrap: 1' "$grastate" 2>/dev/null; then
      echo "$n"
      return
    fi
    seqno=$(sed -n 's/^seqno: *//p' "$grastate" 2>/dev/null || true)
    if [ -n "$seqno" ] && [ "$seqno" -gt "$best_seqno" ]; then
      best=$n
      best_seqno=$seqno
    fi
  done
  # Nobody was stopped last cleanly: the most advanced node may bootstrap.
  sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$(dir "$best")/data/grastate.dat" 2>/dev/null || true
  echo "$best"
}

synced() { [ "$(client "$1" -e "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | cut -f2)" = "Synced" ]; }

wait_synced() {
  local n=$1 deadline=$((SECONDS + ${GALERA_START_TIMEOUT:-90}))
  until synced "$n"; do
    if ! pid_of "$n" >/dev/null; then
      die 1 "node $n: mariadbd exited; last log lines: $(tail -n 5 "$(dir "$n")/mysqld.log" | tr '\n' ' ')"
    fi
    [ "$SECONDS" -ge "$deadline" ] && die 1 "node $n: not Synced after ${GALERA_START_TIMEOUT:-90} s; see $(dir "$n")/mysqld.log"
    sleep 0.3
  done
}

start_node() {
  local n=$1
  shift
  if pid_of "$n" >/dev/null; then
    return 0
  fi
  write_config "$n"
  log "node $n: starting on 127.0.0.1:$(port "$n")${1:+ ($*)}"
  setsid mariadbd --defaults-file="$(dir "$n")/my.cnf" "$@" </dev/null >>"$(dir "$n")/mysqld.out" 2>&1 &
  # Wait for the pid file: it names the process stop_node signals.
  local deadline=$((SECONDS + 30))
  until pid_of "$n" >/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && die 1 "node $n: mariadbd did not start; see $(dir "$n")/mysqld.log"
    sleep 0.2
  done
  wait_synced "$n"
}

running_nodes() {
  local n
  for n in "${NODES[@]}"; do pid_of "$n" >/dev/null && echo "$n"; done
  return 0
}

cmd_start() {
  ensure_packages
  local n
  for n in "${NODES[@]}"; do initialize "$n"; done
  if [ -n "${1:-}" ]; then
    [ -n "$(running_nodes)" ] || die 2 "no node is running: start the whole cluster first"
    start_node "$1"
  else
    if [ -z "$(running_nodes)" ]; then
      local first
      first=$(bootstrap_node)
      start_node "$first" --wsrep-new-cluster
    fi
    # One joiner at a time: a donor serves one state transfer at once.
    for n in "${NODES[@]}"; do start_node "$n"; done
  fi
  cmd_status
}

stop_node() {
  local n=$1 pid
  pid=$(pid_of "$n") || return 0
  log "node $n: stopping (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && die 1 "node $n: mariadbd (pid $pid) did not stop within 60 s"
    sleep 0.2
  done
}

cmd_stop() {
  if [ -n "${1:-}" ]; then
    stop_node "$1"
    return
  fi
  # The last node to stop is the one a later start bootstraps from.
  local n
  for n in 3 2 1; do stop_node "$n"; done
}

cmd_status() {
  local n all=0 pid
  for n in "${NODES[@]}"; do
    if pid=$(pid_of "$n"); then
      local state size
      state=$(client "$n" -e "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | cut -f2)
      size=$(client "$n" -e "SHOW STATUS LIKE 'wsrep_cluster_size'" 2>/dev/null | cut -f2)
      echo "node$n: 127.0.0.1:$(port "$n") pid $pid ${state:-not answering} cluster_size=${size:-?}"
      [ "$state" = "Synced" ] || all=1
    else
      echo "node$n: 127.0.0.1:$(port "$n") stopped"
      all=1
    fi
  done
  return "$all"
}

case "${1:-}" in
start) cmd_start "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
status) cmd_status ;;
destroy)
  cmd_stop
  rm -rf "$BASE"
  ;;
url) echo "mysql://root@127.0.0.1:$(port "${2:?node number}")/${3:-}" ;;
*)
  echo "usage: $0 start [N] | stop [N] | status | destroy | url N [DB]" >&2
  exit 2
  ;;
esac
