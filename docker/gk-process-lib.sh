# shellcheck shell=bash
# Process helpers for docker/entrypoint.sh and docker/custom_startup.sh (sourced; installed
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

# Kills a process and its descendants, children first (they would be reparented otherwise).
kill_tree() {
  local pid=$1 child
  for child in $(pgrep -P "$pid" 2>/dev/null); do
    kill_tree "$child"
  done
  kill -TERM "$pid" 2>/dev/null
}

# Asks the Chrome whose CDP is on 127.0.0.1:$2 to close as its menu would (Browser.close), which
# writes its profile and cookie database, using node $1 and the playwright-core of app dir $3.
# Exit 0 once asked (the answer may never come: the connection drops as Chrome closes).
close_over_cdp() {
  # shellcheck disable=SC2016 # the single-quoted text is JavaScript, not shell
  "$1" --input-type=module -e '
import { createRequire } from "node:module";
const [endpoint, appDir] = process.argv.slice(1);
const { chromium } = createRequire(`${appDir}/package.json`)("playwright-core");
try {
  const browser = await chromium.connectOverCDP(endpoint, { timeout: 5000 });
  const session = await browser.newBrowserCDPSession();
  const sent = session.send("Browser.close").catch(() => undefined);
  await Promise.race([sent, new Promise((resolve) => setTimeout(resolve, 2000))]);
  process.exit(0);
} catch (err) {
  console.error(`close over CDP: ${err.message}`);
  process.exit(1);
}
' "http://127.0.0.1:$2" "$3"
}
