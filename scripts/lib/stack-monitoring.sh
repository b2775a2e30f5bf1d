# shellcheck shell=bash
# Monitoring of the local stack: the field's exporters (Debian packages) and a Prometheus server with the
# project's rules. Sourced by scripts/stack.sh; every process has its pid file like the rest of the stack:
#   exporter-redis-primary/-replica   prometheus-redis-exporter, one per Redis node      29121/29122 + offset
#   exporter-redis-prices-primary/-replica   the same for the prices/stock Redis          29123/29124 + offset
#   exporter-mysqld-a/-b              prometheus-mysqld-exporter, one per MariaDB        29104/29105 + offset
#   exporter-varnish-N                prometheus-varnish-exporter (varnishstat -n)       29130+N + offset
#   prometheus                        scrapes all of them, the service nodes and both    29190 + offset
#                                     HAProxys' built-in exporter (/metrics on their stats ports)
# Credentials: REDIS_EXPORTER_USER/REDIS_EXPORTER_PASSWORD (empty: no Redis AUTH) and
# MYSQL_MONITOR_USER/MYSQL_MONITOR_PASSWORD (monitor/monitor); $STACK_DIR/secrets.env, when a stack has
# one, is sourced first and wins over the defaults.
# STACK_MONITORING=0 starts none of it.

STACK_MONITORING="${STACK_MONITORING:-1}"
EXPORTER_START_TIMEOUT="${EXPORTER_START_TIMEOUT:-15}"
PROMETHEUS_START_TIMEOUT="${PROMETHEUS_START_TIMEOUT:-30}"

monitoring_credentials() {
  if [[ -f "$STACK_DIR/secrets.env" ]]; then
    set -a
    # shellcheck source=/dev/null
    source "$STACK_DIR/secrets.env"
    set +a
  fi
  REDIS_EXPORTER_USER="${REDIS_EXPORTER_USER:-}"
  REDIS_EXPORTER_PASSWORD="${REDIS_EXPORTER_PASSWORD:-}"
  MYSQL_MONITOR_USER="${MYSQL_MONITOR_USER:-monitor}"
  MYSQL_MONITOR_PASSWORD="${MYSQL_MONITOR_PASSWORD:-monitor}"
}

prometheus_url() { echo "http://127.0.0.1:$PORT_PROMETHEUS"; }
# A page of the web UI: Debian's Prometheus ships only the classic UI, under /classic/.
prometheus_page() {
  local url
  url="$(prometheus_url)/$1"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url")" == 200 ]] || url="$(prometheus_url)/classic/$1"
  echo "$url"
}

# start_exporter NAME PORT CMD...: like every other component (pid file, stamp, log in logs/NAME.log).
start_exporter() {
  local name=$1 port=$2 pid
  shift 2
  if is_running "$name" "$port"; then
    return 0
  fi
  ensure_port_free "$name" "$port"
  pid=$(start_bg "$name" "$@")
  wait_port "$port" "$EXPORTER_START_TIMEOUT" "$pid" ||
    die "$name (pid $pid) is not listening on $port; see $STACK_LOG_DIR/$name.log"
  log "started $name (pid $pid, http://127.0.0.1:$port/metrics)"
}

start_redis_exporter() {
  local node=$1 port=$2 redis_port=$3
  # The password goes through the environment (REDIS_PASSWORD), never on the command line (ps shows that).
  REDIS_USER="$REDIS_EXPORTER_USER" REDIS_PASSWORD="$REDIS_EXPORTER_PASSWORD" \
    start_exporter "exporter-$node" "$port" prometheus-redis-exporter \
    -redis.addr "redis://127.0.0.1:$redis_port" -web.listen-address "127.0.0.1:$port" \
    -redis-only-metrics -set-client-name=true
}

start_mysqld_exporter() {
  local x=$1 port=$2 mysql_port=$3 dir="$STACK_DIR/exporter-mysqld-$1"
  mkdir -p "$dir"
  (
    umask 077
    printf '[client]\nhost = 127.0.0.1\nport = %s\nuser = %s\npassword = %s\n' \
      "$mysql_port" "$MYSQL_MONITOR_USER" "$MYSQL_MONITOR_PASSWORD" >"$dir/my.cnf"
  )
  # log_slow_filter (MariaDB): the exporter's own queries never land in the slow log.
  start_exporter "exporter-mysqld-$x" "$port" prometheus-mysqld-exporter \
    --config.my-cnf="$dir/my.cnf" --web.listen-address="127.0.0.1:$port" --exporter.log_slow_filter
}

start_varnish_exporter() {
  local i=$1
  start_exporter "exporter-varnish-$i" "$(varnish_exporter_port "$i")" prometheus-varnish-exporter \
    -n "$STACK_DIR/varnish-$i/work" -web.listen-address "127.0.0.1:$(varnish_exporter_port "$i")" -raw
}

# Exporters of what runs now (a stack started with SERVICE_NODES=0 has no Varnish to export).
start_exporters() {
  local i
  monitoring_credentials
  is_running redis-primary && start_redis_exporter redis-primary "$PORT_EXPORTER_REDIS_PRIMARY" "$PORT_REDIS_PRIMARY"
  is_running redis-replica && start_redis_exporter redis-replica "$PORT_EXPORTER_REDIS_REPLICA" "$PORT_REDIS_REPLICA"
  is_running redis-prices-primary &&
    start_redis_exporter redis-prices-primary "$PORT_EXPORTER_REDIS_PRICES_PRIMARY" "$PORT_REDIS_PRICES_PRIMARY"
  is_running redis-prices-replica &&
    start_redis_exporter redis-prices-replica "$PORT_EXPORTER_REDIS_PRICES_REPLICA" "$PORT_REDIS_PRICES_REPLICA"
  is_running mariadb-a && start_mysqld_exporter a "$PORT_EXPORTER_MYSQLD_A" "$PORT_MARIADB_A"
  is_running mariadb-b && start_mysqld_exporter b "$PORT_EXPORTER_MYSQLD_B" "$PORT_MARIADB_B"
  for ((i = 1; i <= 9; i++)); do
    is_running "varnish-$i" && start_varnish_exporter "$i"
  done
  return 0
}

# One YAML flow list item per running component NAME-N: "{targets: ['127.0.0.1:PORT'], labels: {LABEL: 'VALUE'}}".
scrape_target() { printf "{targets: ['127.0.0.1:%s'], labels: {%s: '%s'}}" "$1" "$2" "$3"; }

# A static_configs list of the running pid files matching GLOB, or [] (Prometheus accepts an empty list).
scrape_targets() {
  local glob=$1 label=$2 port_fn=$3 strip=$4 name items=()
  while read -r name; do
    [[ -n "$name" ]] || continue
    read_pid "$name" >/dev/null || continue
    items+=("$(scrape_target "$($port_fn "$name")" "$label" "${name#"$strip"}")")
  done < <(pid_names_in_stop_order "$glob")
  local IFS=,
  printf '[%s]' "${items[*]}"
}

monitoring_port() {
  case "$1" in
    service-*) service_port "${1#service-}" ;;
    exporter-varnish-*) varnish_exporter_port "${1#exporter-varnish-}" ;;
    *) component_port "$1" ;;
  esac
}

haproxy_targets() {
  local items=()
  is_running haproxy-db && items+=("$(scrape_target "$PORT_HAPROXY_DB_STATS" haproxy db)")
  is_running front-haproxy && items+=("$(scrape_target "$PORT_FRONT_STATS" haproxy front)")
  local IFS=,
  printf '[%s]' "${items[*]}"
}

render_prometheus_config() {
  local dst=$1
  render_template "$STACK_ROOT/infra/prometheus/prometheus.yml.tmpl" "$dst" \
    STACK_NAME="$STACK_NAME" RULES_DIR="$STACK_ROOT/infra/prometheus" PROMETHEUS_PORT="$PORT_PROMETHEUS" \
    SERVICE_TARGETS="$(scrape_targets 'service-*' node monitoring_port service-)" \
    REDIS_TARGETS="$(scrape_targets 'exporter-redis-*' redis monitoring_port exporter-)" \
    MYSQLD_TARGETS="$(scrape_targets 'exporter-mysqld-*' server monitoring_port exporter-mysqld-)" \
    VARNISH_TARGETS="$(scrape_targets 'exporter-varnish-*' node monitoring_port exporter-varnish-)" \
    HAPROXY_TARGETS="$(haproxy_targets)"
}

start_prometheus() {
  local dir="$STACK_DIR/prometheus" cfg pid
  cfg="$dir/prometheus.yml"
  mkdir -p "$dir/data"
  render_prometheus_config "$cfg.new"
  promtool check config "$cfg.new" >"$dir/check.log" 2>&1 || {
    cat "$dir/check.log" >&2
    die "rendered $cfg.new does not pass promtool check config (see above)"
  }
  if pid=$(read_pid prometheus); then
    # Running already: new targets (nodes started since) and edited rules are picked up by a reload
    # (SIGHUP), not a restart. promtool above has checked the rules too.
    mv -f "$cfg.new" "$cfg"
    kill -HUP "$pid"
    log "prometheus (pid $pid) reloaded its targets and rules"
    return 0
  fi
  mv -f "$cfg.new" "$cfg"
  ensure_port_free prometheus "$PORT_PROMETHEUS"
  pid=$(start_bg prometheus prometheus --config.file="$cfg" --storage.tsdb.path="$dir/data" \
    --storage.tsdb.retention.time=7d --web.listen-address="127.0.0.1:$PORT_PROMETHEUS" \
    --web.console.templates=/etc/prometheus/consoles --web.console.libraries=/etc/prometheus/console_libraries)
  log "prometheus started (pid $pid): waiting up to ${PROMETHEUS_START_TIMEOUT} s for $(prometheus_url)/-/ready"
  local deadline=$((SECONDS + PROMETHEUS_START_TIMEOUT))
  until curl -fs -o /dev/null --max-time 2 "$(prometheus_url)/-/ready"; do
    pid_alive "$pid" || die "prometheus (pid $pid) exited; see $STACK_LOG_DIR/prometheus.log"
    ((SECONDS < deadline)) || die "prometheus (pid $pid) not ready after ${PROMETHEUS_START_TIMEOUT} s; see $STACK_LOG_DIR/prometheus.log"
    sleep 0.2
  done
}

stack_monitoring_start() {
  [[ "$STACK_MONITORING" == 1 ]] || return 0
  local bin missing=()
  for bin in prometheus promtool prometheus-redis-exporter prometheus-mysqld-exporter prometheus-varnish-exporter; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
  done
  ((${#missing[@]} == 0)) ||
    die "not installed: ${missing[*]}; run npm run setup (or start without monitoring: STACK_MONITORING=0)"
  start_exporters
  start_prometheus
  log "prometheus: $(prometheus_page alerts) (rules: infra/prometheus/alerts.yml), targets: $(prometheus_page targets)"
}

# Firing and pending alerts, from Prometheus' API. Returns 1 when a critical alert fires.
stack_monitoring_status() {
  [[ "$STACK_MONITORING" == 1 ]] || return 0
  read_pid prometheus >/dev/null || return 0
  local json
  if ! json=$(curl -fsS --max-time 3 "$(prometheus_url)/api/v1/alerts" 2>&1); then
    printf '  prometheus       NOT ANSWERING %s (%s)\n' "$(prometheus_url)" "$json"
    return 1
  fi
  node -e '
    const alerts = JSON.parse(process.argv[1]).data.alerts;
    const firing = alerts.filter((a) => a.state === "firing");
    const pending = alerts.filter((a) => a.state === "pending");
    const label = (a) => Object.entries(a.labels).filter(([k]) => !["alertname", "severity", "job", "stack"].includes(k))
      .map(([k, v]) => `${k}=${v}`).join(" ");
    console.log(`  prometheus       ${process.argv[2]}: ${firing.length} firing, ${pending.length} pending`);
    for (const a of [...firing, ...pending])
      console.log(`    ${a.state.toUpperCase()} ${a.labels.severity ?? ""} ${a.labels.alertname} ${label(a)}: ${a.annotations.summary ?? ""}`);
    process.exit(firing.some((a) => a.labels.severity === "critical") ? 1 : 0);
  ' "$json" "$(prometheus_page alerts)"
}
