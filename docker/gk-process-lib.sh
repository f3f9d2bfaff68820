# shellcheck shell=bash
# Process helpers shared by docker/entrypoint.sh and docker/custom_startup.sh (sourced; installed
# beside them in /dockerstartup). Both wait for processes that may not be their children, where
# `wait` cannot help, and for their own children, which linger as zombies until reaped.

# True while a pid runs (a zombie does not count: it has ended, only its exit is not yet read).
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
  [ "$state" != Z ]
}

# Waits up to $2 seconds for pid $1 to end; false on timeout.
wait_gone() {
  local pid=$1 ticks=$(($2 * 10))
  while alive "$pid"; do
    [ "$ticks" -le 0 ] && return 1
    ticks=$((ticks - 1))
    sleep 0.1
  done
  return 0
}
