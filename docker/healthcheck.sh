#!/bin/sh
# Container HEALTHCHECK: exits 0 when GET <url> answers 2xx within the timeout, 1 otherwise.
# Uses node's fetch because the gateway's slim image has no curl.
#   healthcheck.sh [url]   (default http://127.0.0.1:${PORT:-8000}/health)
#   HEALTHCHECK_TIMEOUT_MS (default 4000)
set -eu
url="${1:-http://127.0.0.1:${PORT:-8000}/health}"
# shellcheck disable=SC2016 # the single-quoted text is JavaScript, not shell
exec node -e '
const [url, timeoutMs] = process.argv.slice(1);
fetch(url, { signal: AbortSignal.timeout(Number(timeoutMs)) }).then(
  (res) => {
    console.log(`${url}: ${res.status}`);
    process.exit(res.ok ? 0 : 1);
  },
  (err) => {
    console.log(`${url}: ${err.cause?.code ?? err.cause?.message ?? err.message}`);
    process.exit(1);
  },
);
' "$url" "${HEALTHCHECK_TIMEOUT_MS:-4000}"
