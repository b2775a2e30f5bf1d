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

# HAProxy (front): the same, with two placeholder nodes.
sed -e "s#@STATE_DIR@#$tmp#g" -e 's/@[A-Z_]*PORT@/1/g' -e 's/@BIND_ADDR@/127.0.0.1/' \
  -e 's/@VARNISH_[0-9]_ADDR@/127.0.0.1:2/' -e 's/@RATE_LIMIT_[A-Z]*@/100/g' \
  infra/haproxy/front.cfg.tmpl >"$tmp/front.cfg"
haproxy -c -q -f "$tmp/front.cfg" && ok "infra/haproxy/front.cfg.tmpl (haproxy -c)"

# Varnish: the VCL compiled by varnishd (vmods std and xkey must load). Run as root, varnishd reads the file
# as its own unprivileged user, hence a readable directory.
chmod 755 "$tmp"
sed -e 's/@SERVICE_HOST@/127.0.0.1/g' -e 's/@SERVICE_PORT@/1/g' -e 's/@NODE_NAME@/node-1/g' \
  infra/varnish/catalog.vcl.tmpl >"$tmp/catalog.vcl"
varnishd -C -f "$tmp/catalog.vcl" -n "$tmp/varnish" >/dev/null 2>"$tmp/vcc.log" || {
  cat "$tmp/vcc.log" >&2
  exit 1
}
ok "infra/varnish/catalog.vcl.tmpl (varnishd -C)"

# keepalived: -t checks the interface too, so use one that exists and can multicast (VRRP adverts).
iface=$(ip -o link show | awk -F': ' '$2 != "lo" && /MULTICAST/ {sub(/@.*/, "", $2); print $2; exit}')
[[ -n $iface ]] || {
  echo "infra-check: no multicast-capable network interface to check infra/keepalived against" >&2
  exit 1
}
sed -e 's/@ROUTER_ID@/front-1/' -e 's/@STATS_PORT@/1/' -e "s/@INTERFACE@/$iface/g" -e 's/@VRID@/51/' \
  -e 's/@PRIORITY@/100/' -e 's#@VIP@#192.0.2.10/24#' infra/keepalived/keepalived.conf.tmpl >"$tmp/keepalived.conf"
if grep -q '@[A-Z_]*@' "$tmp/keepalived.conf"; then
  echo "infra-check: unrendered placeholder in infra/keepalived/keepalived.conf.tmpl" >&2
  exit 1
fi
keepalived -t -f "$tmp/keepalived.conf" >"$tmp/keepalived.log" 2>&1 || {
  cat "$tmp/keepalived.log" >&2
  exit 1
}
ok "infra/keepalived/keepalived.conf.tmpl (keepalived -t, interface $iface)"
