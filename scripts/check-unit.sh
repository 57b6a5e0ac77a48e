#!/usr/bin/env bash
# Checks deploy/nsbackup.service as `make install` writes it: systemd must accept every line
# (`systemd-analyze verify`), and every NSBACKUP_* variable it sets must be one that
# `nsbackup serve` reads, so that a renamed flag cannot leave the unit silently ignored.
#
#   scripts/check-unit.sh PATH/TO/nsbackup
set -euo pipefail

bin=${1:?usage: scripts/check-unit.sh PATH/TO/nsbackup}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The unit as installed under a prefix of our own, with the binary where it names it.
mkdir -p "$work/prefix/bin"
ln -s "$(realpath "$bin")" "$work/prefix/bin/nsbackup"
sed "s|@PREFIX@|$work/prefix|g" "$root/deploy/nsbackup.service" >"$work/nsbackup.service"
if grep -q '@[A-Z]*@' "$work/nsbackup.service"; then
  echo "check-unit: placeholders left in the unit: $(grep -o '@[A-Z]*@' "$work/nsbackup.service" | sort -u)" >&2
  exit 1
fi
# The unit names a user that only `make install` creates: verify the rest without it.
sed -i '/^User=\|^Group=/d' "$work/nsbackup.service"
out=$(systemd-analyze verify --man=no "$work/nsbackup.service" 2>&1) || {
  echo "check-unit: systemd refuses the unit:" >&2
  echo "$out" >&2
  exit 1
}
if [ -n "$out" ]; then
  echo "check-unit: systemd warns about the unit:" >&2
  echo "$out" >&2
  exit 1
fi

help=$("$bin" serve --help)
for var in $(grep -o 'NSBACKUP_[A-Z][A-Z_]*' "$root/deploy/nsbackup.service" | sort -u); do
  if ! grep -qF "env: $var=" <<<"$help"; then
    echo "check-unit: the unit sets $var, which \`nsbackup serve\` does not read" >&2
    exit 1
  fi
done
echo "check-unit: deploy/nsbackup.service is valid"
