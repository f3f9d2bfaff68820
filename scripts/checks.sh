#!/usr/bin/env bash
# Types, lint and the deploy manifests side by side: each is one single-threaded process, and CI
# has two cores, so running them one after another wasted about a minute. Each one's output is
# kept and printed whole, in order, once all three have ended; any failure fails the whole.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

npm run --silent typecheck >"$out/typecheck" 2>&1 &
typecheck=$!
npm run --silent lint >"$out/lint" 2>&1 &
lint=$!
npm run --silent deploy:check >"$out/deploy-check" 2>&1
deploy_status=$?
wait "$typecheck"
typecheck_status=$?
wait "$lint"
lint_status=$?

for name in typecheck lint deploy-check; do
  cat "$out/$name"
done
echo "checks: typecheck ${typecheck_status}, lint ${lint_status}, deploy:check ${deploy_status} (0 is a pass)"
exit $((typecheck_status || lint_status || deploy_status))
