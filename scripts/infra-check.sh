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

# Prometheus: config, alert rules and their unit tests; the dashboard's queries must parse as PromQL too
# (checked as recording rules, the one offline PromQL parser promtool has).
sed -e "s#@RULES_DIR@#$PWD/infra/prometheus#" -e "s/@[A-Z_]*TARGETS@/[]/" -e "s/@[A-Z_]*PORT@/1/" -e "s/@STACK_NAME@/check/" \
  infra/prometheus/prometheus.yml.tmpl >"$tmp/prometheus.yml"
promtool check config --lint=all "$tmp/prometheus.yml" >/dev/null && ok "infra/prometheus/prometheus.yml.tmpl (promtool check config)"
promtool check rules --lint=all infra/prometheus/alerts.yml >/dev/null && ok "infra/prometheus/alerts.yml (promtool check rules)"
promtool test rules infra/prometheus/alerts.test.yml >/dev/null && ok "infra/prometheus/alerts.test.yml (promtool test rules)"
node -e '
  const d = JSON.parse(require("fs").readFileSync("infra/grafana/catalog-service.json", "utf8"));
  const exprs = d.panels.flatMap((p) => (p.targets || []).map((t) => t.expr));
  const rules = exprs.map((e, i) => `      - record: dashboard:expr${i}\n        expr: ${JSON.stringify(e)}`);
  process.stdout.write(`groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
' >"$tmp/dashboard-rules.yml"
promtool check rules "$tmp/dashboard-rules.yml" >/dev/null && ok "infra/grafana/catalog-service.json (JSON, every query parses)"

# Icinga 2: our CheckCommand and Service apply rule in a minimal config with one host that uses them,
# validated unprivileged (every path Icinga writes to points into the temp folder).
mkdir -p "$tmp/icinga2"/{data,log,cache,spool,run}
cat >"$tmp/icinga2/icinga2.conf" <<ICINGA
const PluginDir = "/usr/lib/nagios/plugins"
include <itl>
include <plugins>
include "$PWD/infra/icinga2/commands.conf"
include "$PWD/infra/icinga2/services.conf"
object Host "cache-1" {
  check_command = "dummy"
  address = "127.0.0.1"
  vars.catalog_redis["product"] = { port = 26379 }
  vars.catalog_redis["product-replica"] = { port = 26380, warning = "3:", burst = "64MiB", password = "secret" }
}
ICINGA
# The apply rule must match: one service per entry of vars.catalog_redis.
if out=$(icinga2 daemon -C -c "$tmp/icinga2/icinga2.conf" -DConfigDir="$tmp/icinga2" \
  -DDataDir="$tmp/icinga2/data" -DLogDir="$tmp/icinga2/log" -DCacheDir="$tmp/icinga2/cache" \
  -DSpoolDir="$tmp/icinga2/spool" -DInitRunDir="$tmp/icinga2/run" \
  -DRunAsUser="$(id -un)" -DRunAsGroup="$(id -gn)" 2>&1) && grep -q 'Instantiated 2 Services' <<<"$out"; then
  ok "infra/icinga2/*.conf (icinga2 daemon -C: CheckCommand and 2 services applied)"
else
  printf '%s\n' "$out" >&2
  exit 1
fi
# HAProxy (front): the same, with two placeholder nodes.
sed -e "s#@STATE_DIR@#$tmp#g" -e "s#@LUA_DIR@#$PWD/infra/haproxy#g" -e 's/@[A-Z_]*PORT@/1/g' -e 's/@BIND_ADDR@/127.0.0.1/' \
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
