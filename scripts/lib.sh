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
