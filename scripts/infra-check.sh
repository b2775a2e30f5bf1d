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
promtool check config --lint=all infra/prometheus/prometheus.yml >/dev/null && ok "infra/prometheus/prometheus.yml (promtool check config)"
promtool check rules --lint=all infra/prometheus/alerts.yml >/dev/null && ok "infra/prometheus/alerts.yml (promtool check rules)"
promtool test rules infra/prometheus/alerts.test.yml >/dev/null && ok "infra/prometheus/alerts.test.yml (promtool test rules)"
node -e '
  const d = JSON.parse(require("fs").readFileSync("infra/grafana/catalog-service.json", "utf8"));
  const exprs = d.panels.flatMap((p) => (p.targets || []).map((t) => t.expr));
  const rules = exprs.map((e, i) => `      - record: dashboard:expr${i}\n        expr: ${JSON.stringify(e)}`);
  process.stdout.write(`groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
' >"$tmp/dashboard-rules.yml"
promtool check rules "$tmp/dashboard-rules.yml" >/dev/null && ok "infra/grafana/catalog-service.json (JSON, every query parses)"

