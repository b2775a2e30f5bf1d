# shellcheck shell=bash
# The catalog service part of the local stack: migrations, demo seed, service nodes.
# Sourced by scripts/stack.sh after the infra is up and its connection settings are exported.
# Each node is a Varnish in front of a service; the front HAProxy spreads requests over the Varnishes.

# shellcheck source=stack-edge.sh
source "$(dirname "${BASH_SOURCE[0]}")/stack-edge.sh"

SERVICE_NODES="${SERVICE_NODES:-2}"
SEED_PRODUCTS="${SEED_PRODUCTS:-10000}"
SERVICE_MAIN="$STACK_ROOT/dist/apps/catalog-service/src/main.js"
SERVICE_SCRIPTS="$STACK_ROOT/dist/apps/catalog-service/src/scripts"

service_port() { echo $((28080 + $1 + STACK_PORT_OFFSET)); }

ensure_built() {
  if [[ ! -f "$SERVICE_MAIN" ]]; then
    log "building the service (dist/ is missing)"
    (cd "$STACK_ROOT" && npx --no-install nest build catalog-service) || die "build failed"
  fi
}

wait_ready() {
  local url=$1 timeout=$2 pid=$3 deadline=$((SECONDS + $2))
  until curl -fs -o /dev/null --max-time 2 "$url"; do
    pid_alive "$pid" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

start_service_node() {
  local i=$1 port pid
  port=$(service_port "$i")
  if is_running "service-$i"; then
    log "service-$i already running on :$port"
    return 0
  fi
  ensure_port_free "service-$i" "$port"
  mkdir -p "$STACK_LOG_DIR/service-$i"
  pid=$(start_bg "service-$i" env NODE_NAME="node-$i" PORT="$port" LOG_DIR="$STACK_LOG_DIR/service-$i" \
    LOG_STDOUT=false LOG_LEVEL="${LOG_LEVEL:-info}" "$(edge_service_env "$i")" node "$SERVICE_MAIN")
  log "service-$i started (pid $pid): waiting up to 30 s for http://127.0.0.1:$port/health/ready (Redis, MySQL, its Varnish purges caught up)"
  wait_ready "http://127.0.0.1:$port/health/ready" 30 "$pid" ||
    die "service-$i did not become ready; see $STACK_LOG_DIR/service-$i.log and $STACK_LOG_DIR/service-$i/main.log"
  log "service-$i ready on http://127.0.0.1:$port (pid $pid)"
}

stack_app_start() {
  ensure_built
  log "running migrations against the MySQL writer"
  node "$SERVICE_SCRIPTS/migrate.js" || die "migrations failed"
  log "seeding $SEED_PRODUCTS demo products if the catalog is empty"
  node "$SERVICE_SCRIPTS/seed.js" --products "$SEED_PRODUCTS" --if-empty || die "seeding failed"
  local i
  ((SERVICE_NODES > 0)) || return 0
  # Varnish first: a service is ready only once it has purged its Varnish up to the invalidation stream.
  for ((i = 1; i <= SERVICE_NODES; i++)); do start_varnish_node "$i"; done
  for ((i = 1; i <= SERVICE_NODES; i++)); do start_service_node "$i"; done
  start_front_haproxy
  wait_front_nodes_up "$SERVICE_NODES"
  log "catalog API (front HAProxy -> Varnish -> service): http://127.0.0.1:$PORT_FRONT/v1/products?ids=1,2,3"
  log "  docs: http://127.0.0.1:$PORT_FRONT/docs, contract: /v1/openapi.json, front HAProxy /healthz and /metrics: http://127.0.0.1:$PORT_FRONT_STATS/"
  log "  node N directly: Varnish :$(varnish_port 1)/:$(varnish_port 2), service :$(service_port 1)/:$(service_port 2)"
  log "demo write key (local only): local-demo-write-key; read-only key: local-demo-read-key"
}

stack_app_status() {
  local i port ok=0
  for ((i = 1; i <= SERVICE_NODES; i++)); do
    port=$(service_port "$i")
    if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/health/ready"; then
      printf '  %-16s ready      :%s\n' "service-$i" "$port"
    else
      printf '  %-16s NOT READY  :%s\n' "service-$i" "$port"
      ok=1
    fi
  done
  stack_app_tiering_status
  if ((SERVICE_NODES > 0)); then
    edge_status || ok=1
    edge_purge_positions
  fi
  return $ok
}

# Which node holds the job leases, and the persistent set against its budget (npm run tier -- status).
stack_app_tiering_status() {
  local relay tiering
  relay=$(redis-cli -h 127.0.0.1 -p "$PORT_REDIS_PRIMARY" GET lease:outbox-relay 2>/dev/null || true)
  tiering=$(redis-cli -h 127.0.0.1 -p "$PORT_REDIS_PRIMARY" GET lease:tiering 2>/dev/null || true)
  printf '  leases: outbox relay %s, tiering %s\n' "${relay:-free}" "${tiering:-free (between passes)}"
  [[ -f "$SERVICE_SCRIPTS/tier.js" ]] || return 0
  echo "  tiering (npm run tier -- status):"
  node "$SERVICE_SCRIPTS/tier.js" status 2>&1 | sed 's/^/    /' || true
}
