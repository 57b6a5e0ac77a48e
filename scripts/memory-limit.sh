#!/usr/bin/env bash
# Backs up and restores a namespace of 100,000 items with nsbackup held to 512 MiB of memory
# by a cgroup of its own, as a container or `MemoryMax=` would hold it, and fails if the
# server is killed for want of memory or a job fails.
#
#   scripts/memory-limit.sh PATH/TO/nsbackup [ITEMS] [LIMIT_MIB]
#
# With HIDDEN_LIMIT=1 the server runs in the cgroup without seeing its limit, as under
# systemd's MemoryMax= (the engine then sizes itself from the machine's memory).
#
# The server runs in a mount namespace of its own where its cgroup is bound over the root of
# the cgroup file system, so that it sees its limit where a container shows it
# (`/sys/fs/cgroup/memory.max`, or `memory/memory.limit_in_bytes` in version 1): the embedded
# database sizes its write buffer and block cache from that limit. Needs root.
set -euo pipefail

bin=${1:?usage: scripts/memory-limit.sh PATH/TO/nsbackup [ITEMS] [LIMIT_MIB]}
items=${2:-100000}
limit_mib=${3:-512}
work=$(mktemp -d)
server_pid=
cgroup=

say() { echo "memory-limit: $*"; }

finish() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  [ -n "$cgroup" ] && rmdir "$cgroup" 2>/dev/null || true
  rm -rf "$work"
}
trap finish EXIT

if [ "$(id -u)" != 0 ]; then
  say "needs root, to make a cgroup with a memory limit"
  exit 1
fi

# A cgroup below this process's own, with the memory controller: version 2 or version 1.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  version=2
  own=$(sed -n 's/^0:://p' /proc/self/cgroup)
  parent=/sys/fs/cgroup$own
  cgroup=$parent/nsbackup-memory-$$
  if ! grep -qw memory "$parent/cgroup.subtree_control" 2>/dev/null; then
    echo +memory >"$parent/cgroup.subtree_control" 2>/dev/null || {
      say "cannot enable the memory controller below $parent (move this shell into a leaf cgroup first)"
      exit 1
    }
  fi
  mkdir "$cgroup"
  echo $((limit_mib * 1024 * 1024)) >"$cgroup/memory.max"
  echo 0 >"$cgroup/memory.swap.max" 2>/dev/null || true
  peak_file=$cgroup/memory.peak
  oom_kills() { sed -n 's/^oom_kill //p' "$cgroup/memory.events"; }
  mount_cgroup="mount --bind $cgroup /sys/fs/cgroup"
elif [ -d /sys/fs/cgroup/memory ]; then
  version=1
  own=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
  cgroup=/sys/fs/cgroup/memory$own/nsbackup-memory-$$
  mkdir "$cgroup"
  echo $((limit_mib * 1024 * 1024)) >"$cgroup/memory.limit_in_bytes"
  echo $((limit_mib * 1024 * 1024)) >"$cgroup/memory.memsw.limit_in_bytes" 2>/dev/null || true
  peak_file=$cgroup/memory.max_usage_in_bytes
  oom_kills() { sed -n 's/^oom_kill //p' "$cgroup/memory.oom_control"; }
  mount_cgroup="mount --bind $cgroup /sys/fs/cgroup/memory"
else
  say "this machine has no cgroup memory controller"
  exit 1
fi
say "cgroup v$version at $cgroup, limited to $limit_mib MiB"

data=$work/data
export NSBACKUP_DATA_DIR=$data NSBACKUP_LOG=warn
NSBACKUP_PASSWORD=memory-limit-admin "$bin" user create admin --admin >/dev/null
token=$("$bin" token create "memory limit" --expires 1d)
say "seeding $items items (outside the limit)"
"$bin" seed --namespace big --items "$items" --folders $((items / 100)) >/dev/null

# The server: in the cgroup, in a mount namespace of its own where /sys/fs/cgroup shows it.
[ "${HIDDEN_LIMIT:-0}" = 1 ] && mount_cgroup=true && say "the server does not see its limit"
(
  echo "$BASHPID" >"$cgroup/cgroup.procs"
  exec unshare --mount --propagation private sh -c \
    "$mount_cgroup && exec \"\$0\" serve --listen 127.0.0.1:0" "$bin"
) >"$work/stdout" 2>"$work/server.log" &
server_pid=$!

url=
for _ in $(seq 1 600); do
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/stdout" | head -n 1 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    say "the server did not start:"
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -n "$url" ] || { say "the server printed no address within 60 seconds"; exit 1; }

client() { NSBACKUP_TOKEN=$token "$bin" backup "$@" --server "$url"; }
alive() {
  if ! kill -0 "$server_pid" 2>/dev/null; then
    say "the server died $1 ($(oom_kills) killed by the kernel for want of memory); its log follows"
    tail -n 50 "$work/server.log" >&2
    exit 1
  fi
}

start=$(date +%s)
backup=$(client create big "100k under $limit_mib MiB" --json) || { alive "during the backup"; say "the backup failed: $backup"; exit 1; }
alive "during the backup"
id=$(printf '%s' "$backup" | python3 -c 'import json,sys; b=json.load(sys.stdin); assert b["job"]["status"]=="succeeded", b; print(b["backup"])')
say "backup $id made in $(($(date +%s) - start)) s, peak $(($(cat "$peak_file") / 1048576)) MiB"

start=$(date +%s)
report=$(client restore "$id" --namespace big-copy --json) || { alive "during the restore"; say "the restore failed: $report"; exit 1; }
alive "during the restore"
restored=$(printf '%s' "$report" | python3 -c 'import json,sys; i=json.load(sys.stdin)["items"]; print(i["added"]+i["changed"]+i["unchanged"])')
[ "$restored" = "$items" ] || { say "the restore reports $restored items, not $items"; exit 1; }
say "restored $restored items into big-copy in $(($(date +%s) - start)) s"

# The cgroup's peak counts the page cache too, which the kernel reclaims at the limit: it is
# reported, not judged. What fails is a process the kernel killed for want of memory.
peak=$(($(cat "$peak_file") / 1048576))
say "peak memory of the server's cgroup (page cache included): $peak MiB of $limit_mib MiB"
say "peak resident memory of the server process: $(($(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server_pid/status") / 1024)) MiB"
if [ "$(oom_kills)" != 0 ]; then
  say "the kernel killed $(oom_kills) process(es) of the server for want of memory"
  exit 1
fi
say "1 passed, 0 failed"
