#!/usr/bin/env bash
# Prepares the host directories that compose.yml mounts into each worker-N service.
# Run it as root (`sudo ./init.sh`) before the first `docker compose up` and again after adding a
# worker; it is idempotent and says what it did. Without root it can only check: it fails unless
# the directories already belong to the Kasm user (UID 1000), as after an earlier root run.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KASM_UID=1000
KASM_GID=1000

usage() {
  cat <<EOF
Usage: ./init.sh [--dir DIR] [--compose FILE] [--owner UID:GID]

Reads the worker services (named worker-1, worker-2, ...) from the compose file and, for each
worker N, creates under DIR:
  data/workerN/conversations/   data/workerN/images/
  data/workerN/cookie_cache.json   (a regular file, mode 600; never a directory)
  profiles/workerN/                (the Chrome profile, mode 700, mounted at
                                    /home/kasm-user/chrome-profile)
then gives them to the Kasm user (UID 1000). That needs root: run it with sudo. Without root it
fails, naming the command, unless they already belong to that user. Copies .env.example to .env
when .env is missing.

Options:
  --dir DIR        project directory (default: this script's directory)
  --compose FILE   compose file (default: DIR/compose.yml)
  --owner UID:GID  owner of the worker directories (default: ${KASM_UID}:${KASM_GID})
  -h, --help       show this help
EOF
}

die() {
  printf 'init.sh: error: %s\n' "$*" >&2
  exit 1
}

say() {
  printf 'init.sh: %s\n' "$*"
}

# Prints the N of every top-level service named worker-N, one per line, in file order. Only
# block-style YAML is understood; anything else yields nothing and the caller fails loudly.
worker_numbers() {
  awk '
    /^services:[[:space:]]*(#.*)?$/ { in_services = 1; indent = -1; next }
    in_services && /^[^[:space:]#]/ { in_services = 0 }
    !in_services || /^[[:space:]]*(#.*)?$/ { next }
    {
      match($0, /^ +/)
      if (indent < 0) { indent = RLENGTH }
      if (RLENGTH != indent) { next }
      key = substr($0, indent + 1)
      sub(/[[:space:]]*:.*$/, "", key)
      gsub(/["\047]/, "", key)
      if (key ~ /^worker-[1-9][0-9]*$/) { print substr(key, 8) }
    }
  ' "$1"
}

# chmod only when needed: after a root run, the paths belong to UID 1000 and a later run as
# another user can still check them.
ensure_mode() {
  local mode=$1 path=$2
  if [ -z "$(find "$path" -maxdepth 0 -perm "$mode" 2>/dev/null)" ]; then
    chmod "$mode" "$path" 2>/dev/null || die "cannot chmod $mode $path; run: sudo $0"
    say "mode $mode on $path"
  fi
}

ensure_dir() {
  if [ -d "$1" ]; then
    return
  fi
  [ -e "$1" ] && die "$1 exists and is not a directory"
  mkdir -p "$1"
  say "created $1/"
}

# Docker creates a missing bind-mount source as a directory, which is why the seed's setups ended
# up with a cookie_cache.json directory; an empty one is replaced, anything else is left to a human.
ensure_cookie_cache() {
  local file=$1
  if [ -d "$file" ]; then
    rmdir "$file" 2>/dev/null || die "$file is a non-empty directory; move it away and rerun"
    say "replaced the directory $file with a file"
  fi
  if [ ! -e "$file" ]; then
    printf '{}\n' >"$file"
    say "created $file"
  elif [ ! -f "$file" ]; then
    die "$file exists and is not a regular file"
  fi
  ensure_mode 600 "$file"
}

ensure_env_file() {
  local dir=$1 example
  if [ -e "$dir/.env" ]; then
    return
  fi
  for example in "$dir/.env.example" "$SCRIPT_DIR/.env.example"; do
    if [ -f "$example" ]; then
      cp "$example" "$dir/.env"
      chmod 600 "$dir/.env"
      # Under sudo, hand .env to the person who will run `docker compose` and edit it.
      if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_UID:-}" ]; then
        chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$dir/.env"
      fi
      say "created $dir/.env from $example: set VNC_PW, DB_PASSWORD and API_KEYS in it"
      return
    fi
  done
  say "warning: no .env and no .env.example to copy; compose will refuse to start without one" >&2
}

# Prints the paths under the arguments that do not belong to UID:GID $1 (nothing when all do).
misowned() {
  local owner=$1
  shift
  # find fails on what it may not enter (a 0700 profile of another user): that is no answer.
  { find "$@" \( ! -uid "${owner%%:*}" -o ! -gid "${owner##*:}" \) -print 2>/dev/null || true; } |
    head -n 3
}

# Chrome and the worker run as UID 1000: a profile they cannot write is a crash loop in Kasm.
fix_ownership() {
  local owner=$1 wrong
  shift
  wrong=$(misowned "$owner" "$@")
  if [ -z "$wrong" ]; then
    say "ownership: already $owner"
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    die "$(printf '%s\n  %s\n%s' \
      "cannot give these to UID:GID $owner without root (e.g. ${wrong%%$'\n'*}); run:" \
      "sudo $0${ARGS:+ $ARGS}" \
      "  (or: sudo chown -R $owner $*)")"
  fi
  chown -R "$owner" "$@" || die "chown -R $owner failed"
  wrong=$(misowned "$owner" "$@")
  # root_squash on NFS, or a read-only mount, makes chown fail quietly for root.
  [ -z "$wrong" ] || die "chown -R $owner did not take on ${wrong%%$'\n'*} (NFS root_squash? read-only?)"
  say "ownership: set to $owner on $*"
}

main() {
  local dir="$SCRIPT_DIR" compose='' owner="${KASM_UID}:${KASM_GID}"
  # For the sudo line of a failure message: the same arguments again.
  ARGS="$*"
  while [ $# -gt 0 ]; do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --dir) [ $# -ge 2 ] || die '--dir needs a value'; dir=$2; shift 2 ;;
      --compose) [ $# -ge 2 ] || die '--compose needs a value'; compose=$2; shift 2 ;;
      --owner) [ $# -ge 2 ] || die '--owner needs a value'; owner=$2; shift 2 ;;
      *) usage >&2; die "unknown argument: $1" ;;
    esac
  done
  [[ "$owner" =~ ^[0-9]+:[0-9]+$ ]] || die "--owner must be UID:GID, got '$owner'"
  [ -d "$dir" ] || die "no such directory: $dir"
  dir="$(cd "$dir" && pwd)"
  compose="${compose:-$dir/compose.yml}"
  [ -f "$compose" ] || die "no compose file at $compose"

  local numbers=() n
  while IFS= read -r n; do
    numbers+=("$n")
  done < <(worker_numbers "$compose")
  if [ "${#numbers[@]}" -eq 0 ]; then
    die "no worker services (worker-1, worker-2, ...) found under 'services:' in $compose"
  fi
  say "workers in $compose: ${numbers[*]}"

  local paths=()
  for n in "${numbers[@]}"; do
    ensure_dir "$dir/data/worker$n/conversations"
    ensure_dir "$dir/data/worker$n/images"
    ensure_cookie_cache "$dir/data/worker$n/cookie_cache.json"
    ensure_dir "$dir/profiles/worker$n"
    ensure_mode 700 "$dir/profiles/worker$n"
    paths+=("$dir/data/worker$n" "$dir/profiles/worker$n")
  done
  ensure_env_file "$dir"
  fix_ownership "$owner" "${paths[@]}"
  say "ready: ${#numbers[@]} worker(s)"
}

main "$@"
