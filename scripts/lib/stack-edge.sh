# shellcheck shell=bash
# The edge of the local stack: one Varnish per service node (infra/varnish) and the front HAProxy over all
# of them (infra/haproxy/front.cfg.tmpl). Sourced by scripts/lib/stack-app.sh; pid files varnish-N and
# front-haproxy, so 'stop' stops the front first, then the Varnishes, then the services.
#
# Env: VARNISH_MEMORY (128m per Varnish), FRONT_RATE_LIMIT_KEY and FRONT_RATE_LIMIT_ADDRESS (requests per
# 10 s per API key / per client address; 500000 each: 50k req/s, above what one machine serves, so
# load tests are not throttled; a deployment sets its own).

VARNISH_MEMORY="${VARNISH_MEMORY:-128m}"
FRONT_RATE_LIMIT_KEY="${FRONT_RATE_LIMIT_KEY:-500000}"
FRONT_RATE_LIMIT_ADDRESS="${FRONT_RATE_LIMIT_ADDRESS:-500000}"
EDGE_START_TIMEOUT="${EDGE_START_TIMEOUT:-15}"

# Node N: Varnish 28090+N, its admin port 28094+N (+ offset), so PORT_VARNISH_N / PORT_VARNISH_ADMIN_N.
varnish_port() { echo $((28090 + $1 + STACK_PORT_OFFSET)); }
varnish_admin_port() { echo $((28094 + $1 + STACK_PORT_OFFSET)); }
varnish_workdir() { echo "$STACK_DIR/varnish-$1/work"; }

# A second, private front HAProxy that e2e tests render from the same template with low limits (rate limits
# per address), on ports of this stack's HTTP range: 28170 (API) and 28171 (its /healthz) + offset.
front_test_port() { echo $((28170 + STACK_PORT_OFFSET)); }

# The stats page is on a unix socket only (mode 600), never on a TCP port.
front_stats_socket() { echo "$STACK_DIR/front-haproxy/front-stats.sock"; }
front_stats_csv() { curl -fsS --max-time 2 --unix-socket "$(front_stats_socket)" "http://front/;csv" 2>/dev/null; }

# Settings a service node needs to purge its own Varnish.
edge_service_env() { echo "VARNISH_PURGE_URL=http://127.0.0.1:$(varnish_port "$1")/"; }

start_varnish_node() {
  local i=$1 name="varnish-$1" port admin dir vcl pid
  port=$(varnish_port "$i")
  admin=$(varnish_admin_port "$i")
  if is_running "$name" "$port"; then
    log "$name already running on :$port"
    start_varnishncsa "$i"
    return 0
  fi
  dir="$STACK_DIR/$name"
  vcl="$dir/catalog.vcl"
  mkdir -p "$dir"
  render_template "$STACK_ROOT/infra/varnish/catalog.vcl.tmpl" "$vcl" \
    SERVICE_HOST=127.0.0.1 SERVICE_PORT="$(service_port "$i")" NODE_NAME="node-$i"
  # -j none: the local stack's Varnish runs as the invoking user, so it reads the VCL wherever the checkout
  # lives (a 0700 home or temp folder would lock out the packaged jail's 'varnish' user). Production keeps the jail.
  if ! varnishd -C -j none -f "$vcl" -n "$dir/vcc" >/dev/null 2>"$dir/vcl-check.log"; then
    cat "$dir/vcl-check.log" >&2
    die "$vcl does not compile (see above)"
  fi
  ensure_port_free "$name" "$port"
  ensure_port_free "$name (admin)" "$admin"
  # Idle timeouts, aligned with the service's keep-alive (75 s) and HAProxy's (see infra/varnish/README.md):
  # backend_idle_timeout < 75 s, timeout_idle > HAProxy's timeout server. A restart empties the cache.
  # Request heads up to 64 KiB are parsed (http_req_hdr_len, http_req_size; workspace_client holds them),
  # so an oversized URL gets the VCL's 414 and an oversized header the service's 431, both problem+json,
  # instead of Varnish's own empty 400 (a header line over 8 KiB) or a closed connection (a head over
  # 32 KiB). Through the front nothing over 6 KiB of headers or 9 KiB of URL arrives (issue 12 item 4).
  pid=$(start_bg "$name" varnishd -F -j none -n "$(varnish_workdir "$i")" -i "node-$i" \
    -a "127.0.0.1:$port" -T "127.0.0.1:$admin" -f "$vcl" -s "malloc,$VARNISH_MEMORY" \
    -p backend_idle_timeout=60 -p timeout_idle=60 -p http_resp_hdr_len=16k -p http_resp_size=48k \
    -p http_req_hdr_len=80k -p http_req_size=96k -p workspace_client=192k)
  wait_port "$port" "$EDGE_START_TIMEOUT" "$pid" ||
    die "$name (pid $pid) is not listening on $port; see $STACK_LOG_DIR/$name.log"
  log "started $name (pid $pid, http :$port, admin :$admin, workdir $(varnish_workdir "$i"))"
  start_varnishncsa "$i"
}

# The access log of varnish-N: logs/varnish-N-access.log, one line per client request with the request id
# (rid=, the same as in the front HAProxy's and the service's lines) and hit/miss/pass. The health checks
# (HAProxy's, every second per node) are left out.
VARNISHNCSA_FORMAT='%h %t "%r" %s %b %{Varnish:handling}x %{Varnish:time_firstbyte}x rid=%{X-Request-Id}i'
start_varnishncsa() {
  local i=$1 name="varnishncsa-$1" pid
  is_running "$name" && return 0
  pid=$(start_bg "$name" varnishncsa -n "$(varnish_workdir "$i")" -a -w "$STACK_LOG_DIR/varnish-$i-access.log" \
    -q 'not ReqURL ~ "^/(_edge/)?health"' -F "$VARNISHNCSA_FORMAT")
  log "started $name (pid $pid): access log $STACK_LOG_DIR/varnish-$i-access.log"
}

start_front_haproxy() {
  local name=front-haproxy dir cfg pid p
  if is_running "$name" "$PORT_FRONT"; then
    log "$name already running on :$PORT_FRONT"
    return 0
  fi
  dir="$STACK_DIR/$name"
  cfg="$dir/haproxy.cfg"
  mkdir -p "$dir"
  render_template "$STACK_ROOT/infra/haproxy/front.cfg.tmpl" "$cfg" \
    STATE_DIR="$dir" LUA_DIR="$STACK_ROOT/infra/haproxy" BIND_ADDR=127.0.0.1 FRONT_PORT="$PORT_FRONT" STATS_PORT="$PORT_FRONT_STATS" \
    VARNISH_1_ADDR="127.0.0.1:$(varnish_port 1)" VARNISH_2_ADDR="127.0.0.1:$(varnish_port 2)" \
    RATE_LIMIT_KEY="$FRONT_RATE_LIMIT_KEY" RATE_LIMIT_ADDRESS="$FRONT_RATE_LIMIT_ADDRESS"
  if ! haproxy -c -q -f "$cfg" >"$dir/check.log" 2>&1; then
    cat "$dir/check.log" >&2
    die "haproxy config $cfg is invalid (see above)"
  fi
  for p in "$PORT_FRONT" "$PORT_FRONT_STATS"; do ensure_port_free "$name" "$p"; done
  rm -f "$dir/front-haproxy.sock" "$dir/front-stats.sock"
  # Its log (log stdout: one line per request, with rid=<request id>) is logs/front-haproxy.log.
  pid=$(start_fresh_log "$name" haproxy -db -f "$cfg")
  for p in "$PORT_FRONT" "$PORT_FRONT_STATS"; do
    wait_port "$p" "$EDGE_START_TIMEOUT" "$pid" ||
      die "$name (pid $pid) is not listening on $p; see $STACK_LOG_DIR/$name.log"
  done
  log "started $name (pid $pid, api :$PORT_FRONT, /healthz :$PORT_FRONT_STATS," \
    "stats: curl --unix-socket $(front_stats_socket) http://front/)"
}

# Waits until HAProxy routes to every started node (its checks pass), so 'start' returns a usable API.
wait_front_nodes_up() {
  local n=$1 deadline=$((SECONDS + 20)) up
  while :; do
    up=$(front_stats_csv |
      awk -F, '$1 == "nodes" && $2 ~ /^node-/ && $18 == "UP"' | wc -l) || up=0
    ((up >= n)) && return 0
    ((SECONDS < deadline)) || {
      warn "front-haproxy sees $up of $n nodes up after 20 s; see curl --unix-socket $(front_stats_socket) http://front/"
      return 0
    }
    sleep 0.2
  done
}

edge_status() {
  local csv
  csv=$(front_stats_csv) || {
    printf '  %-16s NOT ANSWERING  stats %s\n' front-haproxy "$(front_stats_socket)"
    return 1
  }
  # columns: pxname svname ... status(18)
  awk -F, '$1 == "nodes" && $2 ~ /^node-/ { printf "  front -> %-8s %s\n", $2, $18; if ($18 != "UP") bad = 1 }
           END { exit bad }' <<<"$csv" || return 1
}

edge_purge_positions() {
  local i line
  for ((i = 1; i <= SERVICE_NODES; i++)); do
    line=$(redis-cli -h 127.0.0.1 -p "$PORT_REDIS_PRIMARY" hmget "purge:pos:node-$i" position appliedAt 2>/dev/null |
      paste -sd' ' -) || line=""
    printf '  %-16s purge position %s\n' "node-$i" "${line:-unknown}"
  done
}
