#!/usr/bin/env bash
# Runs examples/deno-project the way a user would: a separate project with a
# copy of the toolkit (its tracked files, as a submodule or clone would give)
# in vendor/failover-toolkit as a member of its Deno workspace, importing it
# by package name. Works in a scratch directory that it removes.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R "$repo/examples/deno-project/." "$work/"
mkdir -p "$work/vendor/failover-toolkit"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
  tar --null -T - -cf -) | tar -xf - -C "$work/vendor/failover-toolkit"
cd "$work"
npx -y deno@2.9.6 test -A tracker_test.ts
