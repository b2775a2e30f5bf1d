#!/usr/bin/env bash
# npm run infra:check: every infra config validated by its own tool (run by npm test, so CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { printf '  ok  %s\n' "$*"; }

# HAProxy (database): rendered with placeholder values, then haproxy -c.
sed -e "s#@STATE_DIR@#$tmp#g" -e 's/@[A-Z_]*PORT@/1/g' infra/haproxy/db.cfg.tmpl >"$tmp/db.cfg"
haproxy -c -q -f "$tmp/db.cfg" && ok "infra/haproxy/db.cfg.tmpl (haproxy -c)"
