#!/usr/bin/env bash
# /usr/local/bin/gk-entrypoint: PID 1 of the worker image, wrapping Kasm's own entrypoint.
#
#   gk-entrypoint <Kasm's entrypoint and arguments...>
#
# `docker stop` sends SIGTERM to PID 1 only. Kasm's vnc_startup.sh would tear the desktop down at
# once and the background custom_startup.sh (Chrome and the worker) would be SIGKILLed with it:
# no OFFLINE row, in-flight requests cut, Chrome's last cookies lost. So on SIGTERM (or SIGINT)
# this wrapper stops things in order:
#   1. custom_startup.sh (pid in $GK_RUN_DIR/custom_startup.pid): it stops the worker, which
#      stops taking jobs, finishes or fails its in-flight ones with a clear error and writes
#      OFFLINE; then it closes Chrome cleanly, which flushes the cookies;
#   2. then Kasm (the wrapped command), with SIGTERM, and SIGKILL after KASM_STOP_TIMEOUT_S.
# compose.yml's stop_grace_period must exceed GK_STOP_TIMEOUT_S + KASM_STOP_TIMEOUT_S.
#
#   GK_RUN_DIR            where custom_startup.sh writes its pid   (/tmp/gemini-kasm)
#   GK_STOP_TIMEOUT_S     wait for custom_startup.sh to stop       (35)
#   KASM_STOP_TIMEOUT_S   wait for Kasm to stop                    (5)
# shellcheck disable=SC2317 # shellcheck cannot see that the traps below reach these functions
set -u

GK_RUN_DIR="${GK_RUN_DIR:-/tmp/gemini-kasm}"
GK_STOP_TIMEOUT_S="${GK_STOP_TIMEOUT_S:-35}"
KASM_STOP_TIMEOUT_S="${KASM_STOP_TIMEOUT_S:-5}"
KASM_PID=''
# shellcheck source-path=SCRIPTDIR source=gk-process-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/gk-process-lib.sh"

log() {
  printf '%s gk-entrypoint: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}

stop_custom_startup() {
  local pid
  pid=$(cat "$GK_RUN_DIR/custom_startup.pid" 2>/dev/null)
  if [ -z "$pid" ] || ! alive "$pid"; then
    log 'custom_startup.sh is not running'
    return
  fi
  log "stopping custom_startup.sh (pid $pid): the worker, then Chrome"
  kill -TERM "$pid" 2>/dev/null
  if wait_gone "$pid" "$GK_STOP_TIMEOUT_S"; then
    log 'custom_startup.sh stopped'
  else
    log "custom_startup.sh did not stop within ${GK_STOP_TIMEOUT_S} s; Kasm stops anyway"
  fi
}

stop_all() {
  trap '' TERM INT
  log "$1: stopping in order"
  stop_custom_startup
  if [ -n "$KASM_PID" ] && alive "$KASM_PID"; then
    log "stopping Kasm (pid $KASM_PID)"
    kill -TERM "$KASM_PID" 2>/dev/null
    if ! wait_gone "$KASM_PID" "$KASM_STOP_TIMEOUT_S"; then
      log "Kasm did not stop within ${KASM_STOP_TIMEOUT_S} s; killing it"
      kill -KILL "$KASM_PID" 2>/dev/null
    fi
  fi
  wait 2>/dev/null
  log 'stopped'
  exit 0
}

on_sigterm() {
  stop_all SIGTERM
}

on_sigint() {
  stop_all SIGINT
}

main() {
  if [ $# -eq 0 ]; then
    log 'usage: gk-entrypoint <command> [args...] (Kasm entrypoint)' >&2
    exit 2
  fi
  trap on_sigterm TERM
  trap on_sigint INT
  "$@" &
  KASM_PID=$!
  # `wait` returns early when a trapped signal arrives; the trap then ends the script.
  wait "$KASM_PID"
  local status=$?
  log "Kasm exited with status $status"
  exit "$status"
}

main "$@"
