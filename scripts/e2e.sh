#!/usr/bin/env bash
# Runs the Playwright suite against a server of its own: a fresh in-memory database, a free
# port, stopped afterwards whatever the outcome.
#
#   scripts/e2e.sh PATH/TO/nsbackup [playwright args…]
#
# NSBACKUP_E2E_SITE_ROOT names the web assets to serve (the development build's by default);
# NSBACKUP_RELEASE=1 runs the checks of the release build instead of the other specs.
set -euo pipefail

server_bin=${1:?usage: scripts/e2e.sh PATH/TO/nsbackup [playwright args…]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server_pid=

stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_server EXIT

# The administrator the browser tests sign in as (the server creates it in the empty database).
export NSBACKUP_E2E_ADMIN_PASSWORD=${NSBACKUP_E2E_ADMIN_PASSWORD:-e2e-admin-password}
# The server's data directory, for tests that damage a stored backup file as a disk would.
export NSBACKUP_E2E_DATA_DIR="$work/data"

# Backups of namespace bk-busy stay running for a minute (a fault point for tests), so that
# the browser tests can see what a running job refuses; the scheduler looks for due
# schedules every second, so that a scheduled backup comes within seconds.
NSBACKUP_SITE_ROOT="${NSBACKUP_E2E_SITE_ROOT:-$root/target/site}" NSBACKUP_INITIAL_ADMIN_PASSWORD="$NSBACKUP_E2E_ADMIN_PASSWORD" \
  NSBACKUP_TEST_PAUSE="backup:writing@bk-busy,preview:read@pv-slow" NSBACKUP_SCHEDULER_TICK=1s \
  "$server_bin" serve \
  --listen 127.0.0.1:0 --db mem:// --data-dir "$work/data" \
  >"$work/stdout" 2>"$work/server.log" &
server_pid=$!

url=
for _ in $(seq 1 300); do
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/stdout" | head -n 1 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "e2e: the server did not start:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "e2e: the server printed no address within 30 seconds" >&2
  cat "$work/server.log" >&2
  exit 1
fi
echo "e2e: server at $url"

cd "$root/end2end"
status=0
NSBACKUP_URL=$url npx playwright test "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e: failed; the server's log follows" >&2
  tail -n 100 "$work/server.log" >&2
  exit "$status"
fi
# The server's log stays quiet in normal use: a warning of the page framework (a resource
# read outside a transition, which can break hydration) fails the run, naming the place.
if grep -n "outside a <Suspense/>" "$work/server.log" >&2; then
  echo "e2e: the server logged the page framework's warnings above while the pages were used" >&2
  exit 1
fi
exit 0
