# Shared by the scripts in this folder: source it after defining log().

# as_root COMMAND...: run COMMAND as root (directly, or through sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "need root for: $*"
    exit 1
  fi
}

# mariadb_cnf DIR PORT [USER] [BUFFER_POOL]: the [mysqld] lines every extra MariaDB instance of the
# tests shares (Galera nodes, the replication pair): its files under DIR, loopback only, the
# main server's charset, small buffers. The caller appends what its role needs.
mariadb_cnf() {
  local d=$1 port=$2 user=${3:-} pool=${4:-64M}
  printf '%s\n' "[mysqld]"
  [ -n "$user" ] && printf 'user=%s\n' "$user"
  printf '%s\n' \
    "datadir=$d/data" \
    "socket=$d/mysqld.sock" \
    "pid-file=$d/mysqld.pid" \
    "log-error=$d/mysqld.log" \
    "port=$port" \
    "bind-address=127.0.0.1" \
    "skip-name-resolve" \
    "character-set-server=utf8mb3" \
    "collation-server=utf8mb3_general_ci" \
    "innodb_buffer_pool_size=$pool" \
    "innodb_log_file_size=32M" \
    "innodb_flush_log_at_trx_commit=2" \
    "performance_schema=OFF" \
    "max_connections=200"
}
