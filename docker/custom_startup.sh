#!/usr/bin/env bash
# /dockerstartup/custom_startup.sh for the gemini-kasm worker image.
#
# Kasm's vnc_startup.sh starts this once, in the background, after KasmVNC and the window manager,
# and never respawns it (its monitor's case label does not match): this script must never exit.
# It runs two supervised loops and logs to stdout (the container log):
#   - Chrome in Kasm's relaunch loop (`pgrep -x chrome`, relaunch ~1 s after it is gone), on our
#     own profile dir so that Chrome 136+ opens the CDP port, with the crash cleanup that Kasm's
#     wrapper does only for the default dir (the wrapper itself still adds its own flags);
#   - the worker (`node dist/main.js worker`), restarted with a growing backoff when it exits.
# CDP stays on 127.0.0.1 (Chrome binds it there whatever it is told); never publish the port.
#
# On SIGTERM (sent by docker/entrypoint.sh when the container stops) it stops in order: the worker
# first (it stops taking jobs, finishes or fails its in-flight ones, writes OFFLINE), then Chrome,
# closed over CDP (Browser.close, as its own menu does), which writes the profile and the cookie
# database; a SIGTERM would not write the cookies of the last 30 s. SIGTERM to the browser process
# is the fallback; only what outlives a timeout is killed. Its pid is in
# $GK_RUN_DIR/custom_startup.pid for the entrypoint to find.
#
# Every path and command can be overridden through the environment (the unit tests run this
# with stub programs):
#   CHROME_BIN            program to launch                  (google-chrome: Kasm's wrapper)
#   CHROME_PGREP          process name that means "running"  (chrome)
#   CHROME_PROFILE_DIR    --user-data-dir                    (~/chrome-profile, a volume)
#   CHROME_CDP_PORT       --remote-debugging-port            (9222)
#   APP_ARGS              extra Chrome flags, Kasm's variable (--start-maximized)
#   KASM_URL, LAUNCH_URL  page to open                       (https://gemini.google.com/app)
#   KASM_READY_HOOKS      run before each launch if present  (/usr/bin/{filter,desktop}_ready)
#   CHROME_RELAUNCH_S     pause between checks               (1)
#   APP_DIR               the worker's working directory     (/opt/gemini-kasm)
#   WORKER_CMD            the worker command                 (node dist/main.js worker)
#   WORKER_BACKOFF_MIN_MS / WORKER_BACKOFF_MAX_MS / WORKER_STABLE_MS   (1000 / 30000 / 60000)
#   WORKER_STOP_TIMEOUT_S / CHROME_STOP_TIMEOUT_S   wait before killing on stop (20 / 10)
#   GK_RUN_DIR            where the pid file goes            (/tmp/gemini-kasm)
#   NODE_BIN              node, to send Browser.close        (node)
# No `set -e`/`set -u`: a failing command or an unset variable must not end the supervisor.

HOME="${HOME:-/home/kasm-user}"
CHROME_BIN="${CHROME_BIN:-google-chrome}"
CHROME_PGREP="${CHROME_PGREP:-chrome}"
CHROME_PROFILE_DIR="${CHROME_PROFILE_DIR:-$HOME/chrome-profile}"
CHROME_CDP_PORT="${CHROME_CDP_PORT:-9222}"
CHROME_EXTRA_ARGS="${APP_ARGS:---start-maximized}"
CHROME_URL="${KASM_URL:-${LAUNCH_URL:-https://gemini.google.com/app}}"
KASM_READY_HOOKS="${KASM_READY_HOOKS-/usr/bin/filter_ready /usr/bin/desktop_ready}"
CHROME_RELAUNCH_S="${CHROME_RELAUNCH_S:-1}"
APP_DIR="${APP_DIR:-/opt/gemini-kasm}"
WORKER_CMD="${WORKER_CMD:-node dist/main.js worker}"
WORKER_BACKOFF_MIN_MS="${WORKER_BACKOFF_MIN_MS:-1000}"
WORKER_BACKOFF_MAX_MS="${WORKER_BACKOFF_MAX_MS:-30000}"
WORKER_STABLE_MS="${WORKER_STABLE_MS:-60000}"
WORKER_STOP_TIMEOUT_S="${WORKER_STOP_TIMEOUT_S:-20}"
CHROME_STOP_TIMEOUT_S="${CHROME_STOP_TIMEOUT_S:-10}"
GK_RUN_DIR="${GK_RUN_DIR:-/tmp/gemini-kasm}"
NODE_BIN="${NODE_BIN:-node}"

CHILD_PID=''
PAUSE_PID=''
# shellcheck source-path=SCRIPTDIR source=gk-process-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/gk-process-lib.sh"

log() {
  printf '%s custom_startup[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${LOOP_NAME:-main}" "$*"
}

now_ms() {
  date +%s%3N
}

# Sleeps in the background so that a TERM interrupts the pause at once.
pause_ms() {
  local ms=$1
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))" &
  PAUSE_PID=$!
  wait "$PAUSE_PID"
  PAUSE_PID=''
}

# Our Chrome's browser process: the one of cdp_chrome_pids without --type= (helpers have one).
chrome_browser_pid() {
  local pid
  for pid in $(cdp_chrome_pids); do
    if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- ' --type='; then
      echo "$pid"
      return
    fi
  done
}

stop_worker() {
  [ -z "$CHILD_PID" ] && return
  log "stopping the worker (pid $CHILD_PID): it finishes or fails its requests and writes OFFLINE"
  kill -TERM "$CHILD_PID" 2>/dev/null
  if ! wait_gone "$CHILD_PID" "$WORKER_STOP_TIMEOUT_S"; then
    log "the worker did not stop within ${WORKER_STOP_TIMEOUT_S} s; killing it"
    kill_tree "$CHILD_PID"
    kill -KILL "$CHILD_PID" 2>/dev/null
  fi
  wait "$CHILD_PID" 2>/dev/null
  log "worker stopped"
}

stop_chrome() {
  local browser pid
  browser=$(chrome_browser_pid)
  if [ -n "$browser" ]; then
    log "closing Chrome (browser pid $browser) over CDP, so that it writes its profile and cookies"
    if ! close_over_cdp "$NODE_BIN" "$CHROME_CDP_PORT" "$APP_DIR"; then
      log 'CDP close failed; sending SIGTERM to the browser process'
      kill -TERM "$browser" 2>/dev/null
    fi
    if ! wait_gone "$browser" "$CHROME_STOP_TIMEOUT_S"; then
      log "Chrome did not close within ${CHROME_STOP_TIMEOUT_S} s; killing it"
    fi
  fi
  # Whatever is left (helpers of a killed browser, a launcher) goes now.
  for pid in $(cdp_chrome_pids); do
    kill_tree "$pid"
  done
  [ -n "$CHILD_PID" ] && kill_tree "$CHILD_PID"
  log "chrome stopped"
}

# Installed in each loop: stop its current child in the right way and leave.
stop_loop() {
  [ -n "$PAUSE_PID" ] && kill "$PAUSE_PID" 2>/dev/null
  if [ "$LOOP_NAME" = chrome ]; then
    stop_chrome
  else
    stop_worker
  fi
  exit 0
}

# Kasm's wrapper cleans these only for ~/.config/google-chrome. After a crash or a container
# restart, a stale SingletonLock names the old hostname and Chrome refuses the profile as "in use";
# a Crashed exit_type shows the "restore pages" bubble over the Gemini tab.
clean_profile() {
  local dir=$1 prefs stale
  mkdir -p "$dir" && chmod 700 "$dir"
  shopt -s nullglob
  stale=("$dir"/Singleton*)
  shopt -u nullglob
  if [ "${#stale[@]}" -gt 0 ]; then
    log "removing stale ${stale[*]##*/} from $dir"
    rm -f -- "${stale[@]}"
  fi
  prefs="$dir/Default/Preferences"
  if [ -f "$prefs" ] && [ -w "$prefs" ]; then
    sed -i -e 's/"exited_cleanly":false/"exited_cleanly":true/' \
      -e 's/"exit_type":"[^"]*"/"exit_type":"Normal"/' "$prefs"
  fi
}

# Kasm's test is `pgrep -x chrome`; we also require OUR profile on the command line, so a Chrome
# the person opened on the default profile (desktop icon) does not keep the CDP one from coming
# back. The browser process keeps its argv NUL-separated; Chrome's helpers rewrite theirs as one
# space-separated title: comparing with spaces around covers both.
cdp_chrome_pids() {
  local pid cmdline
  for pid in $(pgrep -x "$CHROME_PGREP" 2>/dev/null); do
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
    case " $cmdline " in
      *" --user-data-dir=$CHROME_PROFILE_DIR "*) echo "$pid" ;;
    esac
  done
}

run_ready_hooks() {
  local hook hooks
  read -r -a hooks <<<"$KASM_READY_HOOKS"
  for hook in "${hooks[@]}"; do
    if [ -x "$hook" ]; then
      "$hook"
    fi
  done
}

chrome_loop() {
  LOOP_NAME=chrome
  trap stop_loop TERM
  local extra status
  read -r -a extra <<<"$CHROME_EXTRA_ARGS"
  while true; do
    if [ -z "$(cdp_chrome_pids)" ]; then
      run_ready_hooks
      clean_profile "$CHROME_PROFILE_DIR"
      log "launching $CHROME_BIN (profile $CHROME_PROFILE_DIR, CDP 127.0.0.1:$CHROME_CDP_PORT)"
      # Our flags come last: Chrome keeps the last value of a repeated switch, so they win over
      # the wrapper's bare --user-data-dir and over anything in APP_ARGS.
      "$CHROME_BIN" "${extra[@]}" "--user-data-dir=$CHROME_PROFILE_DIR" \
        "--remote-debugging-port=$CHROME_CDP_PORT" "$CHROME_URL" &
      CHILD_PID=$!
      wait "$CHILD_PID"
      status=$?
      CHILD_PID=''
      log "chrome exited with status $status"
    fi
    pause_ms "$((CHROME_RELAUNCH_S * 1000))"
  done
}

worker_loop() {
  LOOP_NAME=worker
  trap stop_loop TERM
  local cmd backoff_ms=$WORKER_BACKOFF_MIN_MS started_ms ran_ms status
  read -r -a cmd <<<"$WORKER_CMD"
  while true; do
    started_ms=$(now_ms)
    log "starting worker: ${cmd[*]} (in $APP_DIR)"
    (cd "$APP_DIR" && exec "${cmd[@]}") &
    CHILD_PID=$!
    wait "$CHILD_PID"
    status=$?
    CHILD_PID=''
    ran_ms=$(($(now_ms) - started_ms))
    if [ "$ran_ms" -ge "$WORKER_STABLE_MS" ]; then
      backoff_ms=$WORKER_BACKOFF_MIN_MS
    fi
    log "worker exited with status $status after ${ran_ms} ms; restarting in ${backoff_ms} ms"
    pause_ms "$backoff_ms"
    backoff_ms=$((backoff_ms * 2))
    if [ "$backoff_ms" -gt "$WORKER_BACKOFF_MAX_MS" ]; then
      backoff_ms=$WORKER_BACKOFF_MAX_MS
    fi
  done
}

# Misowned volumes are the usual first-run failure: say so plainly instead of a Chrome crash loop.
check_writable() {
  local dir
  for dir in "$CHROME_PROFILE_DIR" "${DATA_DIR:-}"; do
    if [ -n "$dir" ] && [ -d "$dir" ] && [ ! -w "$dir" ]; then
      log "WARNING: $dir is not writable by UID $(id -u); run ./init.sh as root on the host"
    fi
  done
}

# Stops one loop (it stops its child its own way) and waits for it.
stop_loop_pid() {
  [ -z "$1" ] && return
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# The order matters: the worker still needs Chrome while it finishes its requests.
shutdown() {
  trap '' TERM INT HUP
  log 'stopping: the worker first, then Chrome'
  stop_loop_pid "$WORKER_LOOP_PID"
  stop_loop_pid "$CHROME_LOOP_PID"
  rm -f "$GK_RUN_DIR/custom_startup.pid"
  log 'stopped'
  exit 0
}

main() {
  CHROME_LOOP_PID=''
  WORKER_LOOP_PID=''
  trap shutdown TERM INT HUP
  mkdir -p "$GK_RUN_DIR" && echo "$$" >"$GK_RUN_DIR/custom_startup.pid"
  log "starting: chrome loop ($CHROME_BIN) and worker loop ($WORKER_CMD)"
  check_writable
  while true; do
    if [ -z "$CHROME_LOOP_PID" ] || ! kill -0 "$CHROME_LOOP_PID" 2>/dev/null; then
      [ -n "$CHROME_LOOP_PID" ] && log 'chrome loop died; restarting it'
      chrome_loop &
      CHROME_LOOP_PID=$!
    fi
    if [ -z "$WORKER_LOOP_PID" ] || ! kill -0 "$WORKER_LOOP_PID" 2>/dev/null; then
      [ -n "$WORKER_LOOP_PID" ] && log 'worker loop died; restarting it'
      worker_loop &
      WORKER_LOOP_PID=$!
    fi
    # Returns when either loop ends (or a signal arrives); the checks above bring it back.
    wait -n
    pause_ms 1000
  done
}

main "$@"
