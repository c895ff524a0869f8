#!/usr/bin/env bash
# Installs axe-core (the accessibility checker the browser tests run inside each page) from npm
# into a cache outside the clone, and prints the path of axe.min.js. Idempotent.
set -euo pipefail
version=4.14.1
cache="${ATR_CI_CACHE:-$HOME/.cache/atr-ci}/axe-core-$version"
script="$cache/node_modules/axe-core/axe.min.js"
if [[ ! -f $script ]]; then
  mkdir -p "$cache"
  (cd "$cache" && npm install --no-audit --no-fund --no-save --prefix "$cache" "axe-core@$version" >&2)
fi
echo "$script"
