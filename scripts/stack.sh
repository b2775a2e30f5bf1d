#!/usr/bin/env bash
# Local infrastructure for the catalog service: a MariaDB master-master pair
# behind HAProxy, and a Redis primary + replica + Sentinel.  Everything runs
# as plain processes on 127.0.0.1 with its state under .stack/$STACK_NAME/,
# so several stacks (STACK_NAME + STACK_PORT_OFFSET) can run side by side and
# never touch the machine's own services.
#
#   scripts/stack.sh start  [component]   start what is not running yet
#   scripts/stack.sh stop   [--purge] [component]
#   scripts/stack.sh status [component]   exit 0 only if everything is up
#   scripts/stack.sh env    [--json]      connection settings (eval-able)
#   scripts/stack.sh writer [a|b]         which master takes writes; move them (only to a master
#                                         whose agent says it has everything its peer committed)
#
# component: mariadb-a mariadb-b mariadb db-agent-a db-agent-b haproxy-db (haproxy) db
#            redis-primary redis-replica redis-sentinel(-2,-3) redis app
#            monitoring (the exporters and Prometheus, docs/operations.md; STACK_MONITORING=0: none)
# Env: STACK_NAME (dev), STACK_PORT_OFFSET (0; use multiples of 100 so two
# stacks' ports can't overlap), REDIS_MAXMEMORY (512mb).
set -euo pipefail

# shellcheck source=lib/stack-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stack-common.sh"
# shellcheck source=lib/stack-monitoring.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stack-monitoring.sh"
# shellcheck source=lib/stack-secrets.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stack-secrets.sh"

INFRA_DIR="$STACK_ROOT/infra"
APP_HOOK="$STACK_ROOT/scripts/lib/stack-app.sh"
REDIS_MAXMEMORY="${REDIS_MAXMEMORY:-512mb}"
MARIADB_START_TIMEOUT="${MARIADB_START_TIMEOUT:-60}"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-30}"
HAPROXY_START_TIMEOUT="${HAPROXY_START_TIMEOUT:-10}"
# A writer agent is a Node process: on a busy machine it needs longer than HAProxy to listen.
AGENT_START_TIMEOUT="${AGENT_START_TIMEOUT:-60}"

INFRA_COMPONENTS=(mariadb-a mariadb-b db-agent-a db-agent-b haproxy-db redis-primary redis-replica redis-prices-primary redis-prices-replica redis-sentinel redis-sentinel-2 redis-sentinel-3)

usage() {
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# --------------------------------------------------------- components --

COMPONENT=""

# Glob(s) of pid-file names selected by $COMPONENT.
component_globs() {
  case "$COMPONENT" in
    "" | all) echo '*' ;;
    infra) echo "${INFRA_COMPONENTS[*]}" ;;
    mariadb) echo 'mariadb-*' ;;
    haproxy) echo 'haproxy-db' ;;
    db) echo 'mariadb-* db-agent-* haproxy-db' ;;
    redis) echo 'redis-*' ;;
    app) echo 'front-* varnish-* varnishncsa-* service-* exporter-varnish-*' ;;
    monitoring) echo 'exporter-* prometheus' ;;
    *) echo "$COMPONENT" ;;
  esac
}

selected() {
  local g globs
  read -r -a globs <<<"$(component_globs)"
  for g in "${globs[@]}"; do
    # shellcheck disable=SC2053 # glob match on purpose
    [[ "$1" == $g ]] && return 0
  done
  return 1
}

validate_component() {
  [[ -z "$COMPONENT" ]] && return 0
  case "$COMPONENT" in
    all | infra | mariadb | haproxy | db | redis | app | monitoring) return 0 ;;
  esac
  local c
  for c in "${INFRA_COMPONENTS[@]}"; do
    [[ "$c" == "$COMPONENT" ]] && return 0
  done
  # anything else must be a pid file another script dropped in
  [[ -f "$(pid_file "$COMPONENT")" ]] && return 0
  die "unknown component '$COMPONENT'"
}

app_selected() { [[ -z "$COMPONENT" || "$COMPONENT" == all || "$COMPONENT" == app ]]; }
monitoring_selected() { [[ -z "$COMPONENT" || "$COMPONENT" == all || "$COMPONENT" == monitoring ]]; }

# Ports are baked into the data (CHANGE MASTER ... MASTER_PORT, sentinel.conf),
# so a stack keeps the offset it was created with.
check_port_offset() {
  local f="$STACK_DIR/port-offset"
  if [[ -f "$f" ]]; then
    local was
    was=$(cat "$f")
    if [[ "$was" != "$STACK_PORT_OFFSET" ]]; then
      die "stack '$STACK_NAME' was created with STACK_PORT_OFFSET=$was (now $STACK_PORT_OFFSET); use that, or 'stop --purge' it first"
    fi
  else
    mkdir -p "$STACK_DIR"
    echo "$STACK_PORT_OFFSET" >"$f"
  fi
}

# Returns 0 if NAME is up already, 1 if it has to be started.  A recorded
# process that is alive but not listening yet (still starting, crash
# recovery) gets TIMEOUT seconds before we give up on it.
already_up() {
  local name=$1 port=$2 timeout=$3 pid
  pid=$(read_pid "$name") || return 1
  if ! port_listening "$port"; then
    log "$name (pid $pid) is alive but port $port is not open yet; waiting up to ${timeout}s"
    wait_port "$port" "$timeout" "$pid" ||
      die "$name (pid $pid) does not answer on port $port; see $STACK_LOG_DIR/$name.log, or run 'stop' and 'start' again"
  fi
  log "$name already running (pid $pid, port $port)"
  return 0
}

# -------------------------------------------------------------- MariaDB --

mdb_dir() { echo "$STACK_DIR/mariadb-$1"; }
mdb_data() { echo "$STACK_DIR/mariadb-$1/data"; }
mdb_cnf() { echo "$STACK_DIR/mariadb-$1/my.cnf"; }
mdb_marker() { echo "$STACK_DIR/mariadb-$1/bootstrapped"; }
mdb_id() { if [[ "$1" == a ]]; then echo 1; else echo 2; fi; }
mdb_port() { if [[ "$1" == a ]]; then echo "$PORT_MARIADB_A"; else echo "$PORT_MARIADB_B"; fi; }
mdb_peer() { if [[ "$1" == a ]]; then echo b; else echo a; fi; }

# Root over the unix socket, using the [client] section of the node's my.cnf.
mdb_sql() {
  local x=$1
  shift
  mariadb --defaults-file="$(mdb_cnf "$x")" --connect-timeout=5 -N -B "$@"
}

mdb_ping() {
  mariadb-admin --defaults-file="$(mdb_cnf "$1")" --connect-timeout=2 ping >/dev/null 2>&1
}

mdb_render_cnf() {
  local x=$1
  mkdir -p "$(mdb_dir "$x")"
  render_template "$INFRA_DIR/mariadb/my.cnf.tmpl" "$(mdb_cnf "$x")" \
    NAME="mariadb-$x" DATADIR="$(mdb_data "$x")" PORT="$(mdb_port "$x")" LOG_DIR="$STACK_LOG_DIR" \
    SERVER_ID="$(mdb_id "$x")"
}

# Creates a fresh datadir unless a completed one exists.  A datadir without
# the bootstrap marker is what a crashed first start leaves behind: unusable,
# so it is wiped.  Prints "new" when it created one.
mdb_prepare_datadir() {
  local x=$1 data marker
  data=$(mdb_data "$x")
  marker=$(mdb_marker "$x")
  local sock="$data/mysqld.sock"
  # AF_UNIX paths are limited to 107 bytes; mariadbd would fail obscurely.
  if ((${#sock} > 107)); then
    die "socket path $sock is too long (${#sock} > 107 bytes); move the checkout to a shorter path"
  fi
  if [[ -f "$marker" && -d "$data/mysql" ]]; then
    return 0
  fi
  if [[ -e "$data" ]]; then
    warn "mariadb-$x: datadir exists but bootstrap never finished; wiping $data"
    rm -rf "$data"
  fi
  rm -f "$marker"
  local log attempt
  log="$(mdb_dir "$x")/install-db.log"
  # A second attempt on a fresh datadir: a clean-clone CI run once saw install-db fail for B only, and a
  # temporary clone takes its log with it, so the log's tail goes to stderr too.
  for attempt in 1 2; do
    mkdir -p "$data"
    if mariadb-install-db --no-defaults --datadir="$data" \
      --auth-root-authentication-method=normal --user=root --skip-test-db >"$log" 2>&1; then
      echo new
      return 0
    fi
    warn "mariadb-install-db failed for mariadb-$x (attempt $attempt); its log ends with:"
    tail -n 20 "$log" >&2
    rm -rf "$data"
  done
  die "mariadb-install-db failed for mariadb-$x twice; see $log"
}

mdb_launch() {
  local x=$1 data port
  data=$(mdb_data "$x")
  port=$(mdb_port "$x")
  ensure_port_free "mariadb-$x" "$port"
  # left behind by a kill -9; mariadbd would otherwise trip over them
  rm -f "$data/mysqld.sock" "$data/mysqld.pid"
  start_bg "mariadb-$x" mariadbd --defaults-file="$(mdb_cnf "$x")" --user=root >/dev/null
}

mdb_wait() {
  local x=$1 pid errlog port
  pid=$(cat "$(pid_file "mariadb-$x")")
  errlog="$STACK_LOG_DIR/mariadb-$x-error.log"
  port=$(mdb_port "$x")
  local deadline=$((SECONDS + MARIADB_START_TIMEOUT))
  until mdb_ping "$x" && port_listening "$port"; do
    if ! pid_alive "$pid"; then
      tail -n 15 "$errlog" >&2 2>/dev/null || true
      die "mariadb-$x (pid $pid) exited during startup; see $errlog"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 15 "$errlog" >&2 2>/dev/null || true
      die "mariadb-$x did not answer mariadb-admin ping within ${MARIADB_START_TIMEOUT}s; see $errlog"
    fi
    sleep 0.2
  done
}

# Accounts exist on both nodes but are created with the binlog off: each node
# gets its own copy, and nothing replicates into the peer's identical copy.
mdb_create_accounts() {
  local x=$1 drops="" host
  # install-db also creates password-less root@127.0.0.1, root@::1 and
  # root@<hostname> (the latter only draws warnings under skip-name-resolve);
  # root stays reachable over the socket only.
  while read -r host; do
    if [[ -n "$host" ]]; then drops+="DROP USER 'root'@'$host';"$'\n'; fi
  done < <(mdb_sql "$x" -e "SELECT host FROM mysql.user WHERE user = 'root' AND host <> 'localhost'")
  [[ -z "$drops" ]] || mdb_sql "$x" <<<"SET sql_log_bin = 0; $drops"
  mdb_ensure_accounts "$x"
}

# A node made before per-stack secrets replicates as the old 'repl' account: point it at the current one.
mdb_ensure_replication_account() {
  local x=$1 info
  info="$(mdb_data "$x")/master.info"
  [[ -f "$info" ]] || return 0
  grep -qx "$MYSQL_REPLICATION_PASSWORD" "$info" && return 0
  log "mariadb-$x: replicating as $MYSQL_REPLICATION_USER from now on"
  mdb_sql "$x" <<SQL
STOP SLAVE;
CHANGE MASTER TO MASTER_USER='$MYSQL_REPLICATION_USER', MASTER_PASSWORD='$MYSQL_REPLICATION_PASSWORD';
START SLAVE;
SQL
}

# Makes node X a replica of its peer (GTID based, so a restart or a crash
# resumes from mysql.gtid_slave_pos, which is transactional).
mdb_configure_replication() {
  local x=$1 peer_port
  peer_port=$(mdb_port "$(mdb_peer "$x")")
  mdb_sql "$x" <<SQL
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$peer_port,
  MASTER_USER='$MYSQL_REPLICATION_USER', MASTER_PASSWORD='$MYSQL_REPLICATION_PASSWORD',
  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=2;
START SLAVE;
SQL
}

# Node X is new but its peer kept its data (someone deleted X's datadir, or
# X's bootstrap crashed later on): replaying the peer's binlog would not do,
# since X skips events carrying its own server-id, i.e. everything the old X
# wrote.  So X is cloned from a consistent dump of the peer, and both sides
# are pointed at the GTID position of that dump.
mdb_clone_from_peer() {
  local x=$1 peer dump pos dbs
  peer=$(mdb_peer "$x")
  mdb_ping "$peer" || die "mariadb-$x must be cloned from mariadb-$peer, which is not running; start both"
  log "mariadb-$x: cloning data from mariadb-$peer"
  dbs=$(mdb_sql "$peer" -e "SELECT schema_name FROM information_schema.schemata
    WHERE schema_name NOT IN ('mysql','sys','information_schema','performance_schema')" | tr '\n' ' ')
  dump="$(mdb_dir "$x")/clone.sql"
  # shellcheck disable=SC2086 # $dbs is a list of plain names
  mariadb-dump --defaults-file="$(mdb_cnf "$peer")" --single-transaction --gtid \
    --master-data=2 --routines --triggers --events --databases $dbs >"$dump" ||
    die "dumping mariadb-$peer failed"
  pos=$(sed -n "s/^-- SET GLOBAL gtid_slave_pos='\([^']*\)'.*/\1/p" "$dump" | head -n1)
  [[ -n "$pos" ]] || die "the dump of mariadb-$peer names no GTID position"
  # Every step checks its own exit: rejoin_errant_masters runs this in `( ) || rc=$?`, where set -e is off.
  # its own replication must not apply events into tables being reloaded
  mdb_sql "$x" -e 'STOP SLAVE' || die "stopping replication on mariadb-$x failed"
  { echo 'SET sql_log_bin = 0;'; cat "$dump"; } | mdb_sql "$x" || die "loading the clone into mariadb-$x failed"
  rm -f "$dump"
  local peer_port
  peer_port=$(mdb_port "$peer")
  # X's binlog continues the pair's GTID history, so the peer can resume
  # from the dump position on it.
  mdb_sql "$x" <<SQL || die "pointing mariadb-$x at the clone position failed"
STOP SLAVE;
RESET MASTER;
SET GLOBAL gtid_binlog_state = '$pos';
SET GLOBAL gtid_slave_pos = '$pos';
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$peer_port,
  MASTER_USER='$MYSQL_REPLICATION_USER', MASTER_PASSWORD='$MYSQL_REPLICATION_PASSWORD',
  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=2;
START SLAVE;
SQL
  mdb_sql "$peer" <<SQL || die "pointing mariadb-$peer at the clone position failed"
STOP SLAVE;
SET GLOBAL gtid_slave_pos = '$pos';
START SLAVE;
SQL
  log "mariadb-$x: cloned from mariadb-$peer at GTID '$pos'"
}

start_mariadb() {
  local x nodes=() new=() launched=()
  for x in a b; do
    selected "mariadb-$x" && nodes+=("$x")
  done
  ((${#nodes[@]})) || return 0

  for x in "${nodes[@]}"; do
    if already_up "mariadb-$x" "$(mdb_port "$x")" "$MARIADB_START_TIMEOUT"; then
      continue
    fi
    mdb_render_cnf "$x"
    local state
    state=$(mdb_prepare_datadir "$x") # (not inside [[ ]]: its die must stop us)
    [[ "$state" != new ]] || new+=("$x")
    mdb_launch "$x"
    launched+=("$x")
  done
  # both nodes start in parallel; now wait for each
  for x in "${launched[@]}"; do
    mdb_wait "$x"
    log "started mariadb-$x (pid $(cat "$(pid_file "mariadb-$x")"), port $(mdb_port "$x"))"
    if [[ -f "$(mdb_marker "$x")" ]]; then
      mdb_ensure_accounts "$x"
      mdb_ensure_replication_account "$x"
    fi
  done
  ((${#new[@]})) || return 0

  for x in "${new[@]}"; do
    mdb_create_accounts "$x"
  done
  for x in "${new[@]}"; do
    local peer
    peer=$(mdb_peer "$x")
    if [[ -f "$(mdb_marker "$peer")" ]] && [[ " ${new[*]} " != *" $peer "* ]]; then
      mdb_clone_from_peer "$x"
    else
      mdb_configure_replication "$x"
    fi
    date '+%F %T' >"$(mdb_marker "$x")"
    log "bootstrapped mariadb-$x (database catalog, accounts of $SECRETS_FILE, replicating from mariadb-$(mdb_peer "$x"))"
  done
}

# ------------------------------------------------------- writer agents --

# One agent per master (as it would run on each database host): the DB
# HAProxy's agent check asks it whether that master may take writes.
start_db_agent() {
  local x=$1 name="db-agent-$1" port self peer
  selected "$name" || return 0
  port=$(component_port "$name")
  already_up "$name" "$port" "$AGENT_START_TIMEOUT" && return 0
  local agent="$STACK_ROOT/dist/apps/catalog-service/src/scripts/writer-agent.js"
  [[ -f "$agent" ]] || die "$agent is missing: run npm run build first"
  self="127.0.0.1:$(mdb_port "$x")"
  peer="127.0.0.1:$(mdb_port "$(mdb_peer "$x")")"
  ensure_port_free "$name" "$port"
  local pid
  pid=$(MYSQL_MONITOR_USER="$MYSQL_AGENT_USER" MYSQL_MONITOR_PASSWORD="$MYSQL_AGENT_PASSWORD" \
    start_bg "$name" node "$agent" --listen "$port" --self "$self" --peer "$peer" \
      --haproxy-socket "$STACK_DIR/haproxy-db/haproxy-db.sock" --server "mariadb-$x")
  wait_port "$port" "$AGENT_START_TIMEOUT" "$pid" ||
    die "$name (pid $pid) is not listening on $port; see $STACK_LOG_DIR/$name.log"
  log "started $name (pid $pid, port $port, for mariadb-$x)"
}

# ------------------------------------------------- rejoin after a crash --

# The GTIDs of X's binlog that its peer never had, one per line (none: nothing printed).
mdb_errant_gtids() {
  local x=$1 mine theirs
  mine=$(mdb_sql "$x" -e 'SELECT @@gtid_binlog_pos') || return 1
  theirs=$(mdb_sql "$(mdb_peer "$x")" -e 'SELECT @@gtid_current_pos') || return 1
  awk -v mine="$mine" -v theirs="$theirs" 'BEGIN {
    n = split(theirs, t, ","); for (i = 1; i <= n; i++) { split(t[i], p, "-"); have[p[1]] = p[3] }
    n = split(mine, m, ","); for (i = 1; i <= n; i++) { split(m[i], p, "-"); if (p[3] + 0 > have[p[1]] + 0) print m[i] }
  }'
}

# X is the open writer and does not replicate from its peer (its agent stopped that: writerReplication).
mdb_cut_off_writer() {
  [[ "$(mdb_sql "$1" -e 'SELECT @@read_only')" == 0 ]] &&
    [[ "$(mdb_sql "$1" -e "SHOW GLOBAL STATUS LIKE 'Slave_running'" | cut -f2)" == OFF ]]
}

# A master killed while it was the writer can come back with transactions it wrote to its binlog but never
# sent: with lossless semi-synchronous replication (AFTER_SYNC) they were never acknowledged to a client, and
# InnoDB's crash recovery commits them. The master that took over keeps them out (its agent leaves its
# replication from that peer stopped), so the pair would stay half-replicated until a person re-cloned the
# errant master. This does that re-clone, as replication-manager's rejoin does: the errant transactions are
# saved to the stack's log folder first (they are acknowledged writes only if semi-sync had fallen back to
# asynchronous before the crash, which CatalogMySQLSemiSyncOff alerts on), the master leaves the reader
# pool, its agent is paused, and it is cloned from the writer. docs/data-safety.md, "A crashed writer's
# unsent transactions".
rejoin_errant_masters() {
  local x peer errant
  for x in a b; do
    peer=$(mdb_peer "$x")
    selected "mariadb-$x" || continue
    mdb_ping "$x" && mdb_ping "$peer" || continue
    mdb_cut_off_writer "$peer" || continue
    [[ -n "$(mdb_errant_gtids "$x")" ]] || continue
    sleep 2 # a few agent rounds: a peer the writer still replicates from catches up on its own
    mdb_cut_off_writer "$peer" || continue
    errant=$(mdb_errant_gtids "$x" | paste -sd, -)
    [[ -n "$errant" ]] || continue
    local saved
    saved="$STACK_LOG_DIR/mariadb-$x-errant-$(date +%Y%m%dT%H%M%S).binlog.sql"
    # shellcheck disable=SC2046 # binlog file names have no spaces
    mariadb-binlog --verbose --start-position="$(mdb_sql "$peer" -e 'SELECT @@gtid_current_pos')" \
      $(sed "s|^\./|$(mdb_data "$x")/|" "$(mdb_data "$x")/mariadb-$x-bin.index") >"$saved" 2>&1 ||
      warn "saving mariadb-$x's errant transactions to $saved failed"
    warn "mariadb-$x has transactions the writer mariadb-$peer never had ($errant), saved to $saved;" \
      "re-cloning mariadb-$x from mariadb-$peer"
    local db_proxy=0 agent rc=0
    is_running haproxy-db "$PORT_HAPROXY_DB_WRITER" && db_proxy=1
    if ((db_proxy)); then
      haproxy_db_cmd "set server mysql-reader/mariadb-$x state maint" >/dev/null
      haproxy_db_cmd "shutdown sessions server mysql-reader/mariadb-$x" >/dev/null
    fi
    agent=$(read_pid "db-agent-$x") || agent=
    [[ -z "$agent" ]] || kill -STOP "$agent"
    (mdb_clone_from_peer "$x") || rc=$?
    [[ -z "$agent" ]] || kill -CONT "$agent"
    ((rc == 0)) || die "re-cloning mariadb-$x failed (see above); it stays out of the reader pool until it is re-cloned"
    ((db_proxy == 0)) || haproxy_db_cmd "set server mysql-reader/mariadb-$x state ready" >/dev/null
  done
}

# -------------------------------------------------------------- HAProxy --

start_haproxy_db() {
  selected haproxy-db || return 0
  already_up haproxy-db "$PORT_HAPROXY_DB_WRITER" "$HAPROXY_START_TIMEOUT" && return 0
  local dir="$STACK_DIR/haproxy-db" cfg
  cfg="$dir/haproxy.cfg"
  mkdir -p "$dir"
  render_template "$INFRA_DIR/haproxy/db.cfg.tmpl" "$cfg" \
    STATE_DIR="$dir" WRITER_PORT="$PORT_HAPROXY_DB_WRITER" \
    READER_PORT="$PORT_HAPROXY_DB_READER" STATS_PORT="$PORT_HAPROXY_DB_STATS" \
    MARIADB_A_PORT="$PORT_MARIADB_A" MARIADB_B_PORT="$PORT_MARIADB_B" \
    AGENT_A_PORT="$PORT_DB_AGENT_A" AGENT_B_PORT="$PORT_DB_AGENT_B" \
    STATS_USER="$STATS_USER" STATS_PASSWORD="$STATS_PASSWORD"
  chmod 600 "$cfg"
  if ! haproxy -c -q -f "$cfg" >"$dir/check.log" 2>&1; then
    cat "$dir/check.log" >&2
    die "haproxy config $cfg is invalid (see above)"
  fi
  local p
  for p in "$PORT_HAPROXY_DB_WRITER" "$PORT_HAPROXY_DB_READER" "$PORT_HAPROXY_DB_STATS"; do
    ensure_port_free haproxy-db "$p"
  done
  rm -f "$dir/haproxy-db.sock"
  local pid
  # -db: stay in the foreground so the recorded pid is haproxy itself; its log (connection errors, health
  # changes) is logs/haproxy-db.log
  pid=$(start_fresh_log haproxy-db haproxy -db -f "$cfg")
  for p in "$PORT_HAPROXY_DB_WRITER" "$PORT_HAPROXY_DB_READER" "$PORT_HAPROXY_DB_STATS"; do
    wait_port "$p" "$HAPROXY_START_TIMEOUT" "$pid" ||
      die "haproxy-db (pid $pid) is not listening on $p; see $STACK_LOG_DIR/haproxy-db.log"
  done
  log "started haproxy-db (pid $pid, writer $PORT_HAPROXY_DB_WRITER, reader $PORT_HAPROXY_DB_READER, stats http://127.0.0.1:$PORT_HAPROXY_DB_STATS/)"
}

# ---------------------------------------------------------------- Redis --

redis_ping() { [[ "$(rcli -p "$1" ping 2>/dev/null)" == PONG ]]; }

# redis_wait NAME PORT PID
redis_wait() {
  local name=$1 port=$2 pid=$3
  local deadline=$((SECONDS + REDIS_START_TIMEOUT))
  until redis_ping "$port"; do
    if ! pid_alive "$pid"; then
      tail -n 15 "$STACK_LOG_DIR/$name.log" >&2 2>/dev/null || true
      die "$name (pid $pid) exited during startup; see $STACK_LOG_DIR/$name.log"
    fi
    if ((SECONDS >= deadline)); then
      die "$name did not answer PING on port $port within ${REDIS_START_TIMEOUT}s; see $STACK_LOG_DIR/$name.log"
    fi
    sleep 0.1
  done
}

# Empty when the node does not answer (|| true: under pipefail a stopped node would end `status` early).
redis_role() { { rcli -p "$1" info replication 2>/dev/null || true; } | tr -d '\r' | sed -n 's/^role://p'; }

# Port of the Redis node that is the primary right now (it may be the
# "replica" after a Sentinel failover); empty if nobody knows.
# redis_current_primary_port [MASTER PRIMARY_PORT REPLICA_PORT]: the product pair by default.
redis_current_primary_port() {
  local master=${1:-catalog} primary=${2:-$PORT_REDIS_PRIMARY} replica=${3:-$PORT_REDIS_REPLICA}
  local addr p n sp
  for n in redis-sentinel redis-sentinel-2 redis-sentinel-3; do
    sp=$(component_port "$n")
    is_running "$n" "$sp" || continue
    addr=$(rcli -p "$sp" sentinel get-master-addr-by-name "$master" 2>/dev/null | tail -n1)
    # mid-failover Sentinel may still name the old, dead primary
    if [[ "$addr" =~ ^[0-9]+$ && "$(redis_role "$addr")" == master ]]; then
      echo "$addr"
      return 0
    fi
  done
  for p in "$primary" "$replica"; do
    if [[ "$(redis_role "$p")" == master ]]; then
      echo "$p"
      return 0
    fi
  done
}

# start_redis_node NAME TEMPLATE PORT [MASTER PRIMARY_PORT REPLICA_PORT]: the product pair by default.
start_redis_node() {
  local name=$1 tmpl=$2 port=$3 master=${4:-catalog}
  local primary=${5:-$PORT_REDIS_PRIMARY} replica=${6:-$PORT_REDIS_REPLICA}
  selected "$name" || return 0
  already_up "$name" "$port" "$REDIS_START_TIMEOUT" && return 0
  local dir="$STACK_DIR/$name"
  mkdir -p "$dir"
  (umask 077 && redis_acl_file >"$dir/users.acl")
  render_template "$INFRA_DIR/redis/$tmpl" "$dir/redis.conf" \
    PORT="$port" DIR="$dir" MAXMEMORY="$REDIS_MAXMEMORY" PRIMARY_PORT="$primary" \
    ACL_FILE="$dir/users.acl" REPLICA_USER="$REDIS_REPLICA_USER" REPLICA_PASSWORD="$REDIS_REPLICA_PASSWORD"
  chmod 600 "$dir/redis.conf"
  ensure_port_free "$name" "$port"
  # Rejoining after a Sentinel failover: follow the current primary instead
  # of coming up as a second primary (or replicating from a replica).
  local extra=() cur
  cur=$(redis_current_primary_port "$master" "$primary" "$replica")
  if [[ -n "$cur" && "$cur" != "$port" && "$cur" != "$primary" ]] && redis_ping "$cur"; then
    log "$name: the current primary is 127.0.0.1:$cur (failed over); starting as its replica"
    extra=(--replicaof 127.0.0.1 "$cur")
  fi
  local pid
  pid=$(start_bg "$name" redis-server "$dir/redis.conf" "${extra[@]}")
  redis_wait "$name" "$port" "$pid"
  log "started $name (pid $pid, port $port)"
}

# sentinel_port NAME: redis-sentinel, redis-sentinel-2, redis-sentinel-3
sentinel_port() { component_port "$1"; }

# start_redis_sentinel FRESH NAME: three Sentinels with quorum 2, as production runs them, so that one
# Sentinel alone can neither start a failover nor block one.
start_redis_sentinel() {
  local fresh_topology=$1 name=$2 port
  port=$(sentinel_port "$name")
  selected "$name" || return 0
  already_up "$name" "$port" "$REDIS_START_TIMEOUT" && return 0
  local dir="$STACK_DIR/$name" conf
  conf="$dir/sentinel.conf"
  mkdir -p "$dir"
  # Sentinel owns this file once it exists (it records replicas, epochs and
  # the current primary).  The exception: after a failover both Redis nodes
  # were just restarted from their templates (primary is primary again), so
  # a config still naming the old replica as primary would be wrong.
  if [[ -f "$conf" ]] && ((fresh_topology)) &&
    ! grep -q "^sentinel monitor catalog 127.0.0.1 $PORT_REDIS_PRIMARY " "$conf"; then
    log "$name: sentinel.conf names a different primary (earlier failover); re-seeding it from the template"
    rm -f "$conf"
  fi
  if [[ -f "$conf" ]] && ! grep -q "^user $REDIS_USERNAME on #$(sha256_hex "$REDIS_PASSWORD") " "$conf"; then
    log "$name: sentinel.conf predates this stack's secrets; re-seeding it from the template"
    rm -f "$conf"
  fi
  if [[ ! -f "$conf" ]]; then
    render_template "$INFRA_DIR/redis/sentinel.conf.tmpl" "$conf" \
      PORT="$port" DIR="$dir" PRIMARY_PORT="$PORT_REDIS_PRIMARY" \
      SENTINEL_USER="$REDIS_SENTINEL_USER" SENTINEL_PASSWORD="$REDIS_SENTINEL_PASSWORD"
    sentinel_users >>"$conf"
    chmod 600 "$conf"
  fi
  ensure_port_free "$name" "$port"
  local pid
  pid=$(start_bg "$name" redis-sentinel "$conf")
  redis_wait "$name" "$port" "$pid"
  log "started $name (pid $pid, port $port, monitoring 'catalog', quorum 2 of 3)"
}

start_redis() {
  local fresh_topology=1
  if is_running redis-primary || is_running redis-replica; then
    fresh_topology=0
  fi
  start_redis_node redis-primary primary.conf.tmpl "$PORT_REDIS_PRIMARY"
  start_redis_node redis-replica replica.conf.tmpl "$PORT_REDIS_REPLICA"
  local prices=(catalog-prices "$PORT_REDIS_PRICES_PRIMARY" "$PORT_REDIS_PRICES_REPLICA")
  start_redis_node redis-prices-primary primary.conf.tmpl "$PORT_REDIS_PRICES_PRIMARY" "${prices[@]}"
  start_redis_node redis-prices-replica replica.conf.tmpl "$PORT_REDIS_PRICES_REPLICA" "${prices[@]}"
  local n
  for n in redis-sentinel redis-sentinel-2 redis-sentinel-3; do
    start_redis_sentinel "$fresh_topology" "$n"
    sentinel_monitor_prices "$n"
  done
}

# The Sentinels follow the prices Redis under a second master name. Added at run time (Sentinel then
# records it in its own sentinel.conf), so a stack whose Sentinels were set up before it gets it too.
sentinel_monitor_prices() {
  local name=$1 sp
  selected "$name" || return 0
  sp=$(sentinel_port "$name")
  local known
  known=$(rcli -p "$sp" sentinel get-master-addr-by-name catalog-prices 2>/dev/null | tail -n1)
  # A primary on neither of the stack's prices ports (ports changed since): forget it, monitor afresh.
  if [[ -n "$known" && "$known" != "$PORT_REDIS_PRICES_PRIMARY" && "$known" != "$PORT_REDIS_PRICES_REPLICA" ]]; then
    rcli -p "$sp" sentinel remove catalog-prices >/dev/null
  fi
  if [[ -z "$(rcli -p "$sp" sentinel get-master-addr-by-name catalog-prices 2>/dev/null)" ]]; then
    local primary
    primary=$(redis_current_primary_port catalog-prices "$PORT_REDIS_PRICES_PRIMARY" "$PORT_REDIS_PRICES_REPLICA")
    rcli -p "$sp" sentinel monitor catalog-prices 127.0.0.1 "${primary:-$PORT_REDIS_PRICES_PRIMARY}" 2 >/dev/null
    rcli -p "$sp" sentinel set catalog-prices down-after-milliseconds 3000 failover-timeout 20000 parallel-syncs 1 >/dev/null
    # Sentinel reaches the prices nodes as their 'sentinel' ACL user, like the product pair.
    rcli -p "$sp" sentinel set catalog-prices auth-user "$REDIS_SENTINEL_USER" auth-pass "$REDIS_SENTINEL_PASSWORD" >/dev/null
    log "$name: monitoring 'catalog-prices' too (quorum 2 of 3)"
  fi
}

# ------------------------------------------------------------------ env --

env_pairs() {
  cat <<EOF
STACK_NAME=$STACK_NAME
STACK_DIR=$STACK_DIR
REDIS_URL=redis://$REDIS_USERNAME:$REDIS_PASSWORD@127.0.0.1:$PORT_REDIS_PRIMARY
REDIS_REPLICA_URL=redis://$REDIS_USERNAME:$REDIS_PASSWORD@127.0.0.1:$PORT_REDIS_REPLICA
REDIS_USERNAME=$REDIS_USERNAME
REDIS_PASSWORD=$REDIS_PASSWORD
REDIS_SENTINEL_HOST=127.0.0.1
REDIS_SENTINEL_PORT=$PORT_REDIS_SENTINEL
REDIS_SENTINELS=127.0.0.1:$PORT_REDIS_SENTINEL,127.0.0.1:$PORT_REDIS_SENTINEL_2,127.0.0.1:$PORT_REDIS_SENTINEL_3
REDIS_SENTINEL_NAME=catalog
REDIS_PRICE_URL=redis://$REDIS_USERNAME:$REDIS_PASSWORD@127.0.0.1:$PORT_REDIS_PRICES_PRIMARY
REDIS_PRICE_SENTINEL_NAME=catalog-prices
REDIS_STOCK_URL=redis://$REDIS_USERNAME:$REDIS_PASSWORD@127.0.0.1:$PORT_REDIS_PRICES_PRIMARY
REDIS_STOCK_SENTINEL_NAME=catalog-prices
REDIS_PRICES_REPLICA_URL=redis://$REDIS_USERNAME:$REDIS_PASSWORD@127.0.0.1:$PORT_REDIS_PRICES_REPLICA
MYSQL_WRITER_HOST=127.0.0.1
MYSQL_WRITER_PORT=$PORT_HAPROXY_DB_WRITER
MYSQL_READER_HOST=127.0.0.1
MYSQL_READER_PORT=$PORT_HAPROXY_DB_READER
MYSQL_USER=$MYSQL_USER
MYSQL_PASSWORD=$MYSQL_PASSWORD
MYSQL_DATABASE=catalog
MYSQL_A_PORT=$PORT_MARIADB_A
MYSQL_B_PORT=$PORT_MARIADB_B
MYSQL_MONITOR_USER=$MYSQL_MONITOR_USER
MYSQL_MONITOR_PASSWORD=$MYSQL_MONITOR_PASSWORD
HAPROXY_DB_STATS_PORT=$PORT_HAPROXY_DB_STATS
PROMETHEUS_URL=http://127.0.0.1:$PORT_PROMETHEUS
SERVICE_PORTS=$PORT_SERVICE_1,$PORT_SERVICE_2
VARNISH_PORTS=$PORT_VARNISH_1,$PORT_VARNISH_2
FRONT_PORT=$PORT_FRONT
FRONT_STATS_PORT=$PORT_FRONT_STATS
VARNISH_ADMIN_PORTS=$PORT_VARNISH_ADMIN_1,$PORT_VARNISH_ADMIN_2
EOF
}

env_shell() {
  local k v q="'"
  while IFS='=' read -r k v; do
    if [[ ! "$v" =~ ^[A-Za-z0-9_./:,@+-]*$ ]]; then
      v="$q${v//$q/$q\\$q$q}$q"
    fi
    printf 'export %s=%s\n' "$k" "$v"
  done < <(env_pairs)
}

json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '%s' "$s"
}

# All values are strings, exactly as the process environment would hold them.
env_json() {
  local k v first=1
  printf '{\n'
  while IFS='=' read -r k v; do
    ((first)) || printf ',\n'
    first=0
    printf '  "%s": "%s"' "$k" "$(json_escape "$v")"
  done < <(env_pairs)
  printf '\n}\n'
}

# env.sh and env.json carry the service's own credentials (not the admin, replication or stats ones): mode 600.
write_env_files() {
  mkdir -p "$STACK_DIR"
  umask 077
  {
    echo "# generated by scripts/stack.sh start; source it to reach stack '$STACK_NAME'"
    env_shell
  } >"$STACK_DIR/env.sh.tmp"
  env_json >"$STACK_DIR/env.json.tmp"
  mv -f "$STACK_DIR/env.sh.tmp" "$STACK_DIR/env.sh"
  mv -f "$STACK_DIR/env.json.tmp" "$STACK_DIR/env.json"
}

export_env() {
  local k v
  while IFS='=' read -r k v; do
    export "$k=$v"
  done < <(env_pairs)
}

# ------------------------------------------------------------- commands --

cmd_start() {
  stack_lock
  check_port_offset
  mkdir -p "$STACK_PID_DIR" "$STACK_LOG_DIR"
  clean_stale_pids
  ensure_secrets
  local t0=$SECONDS

  start_mariadb
  start_db_agent a
  start_db_agent b
  start_haproxy_db
  rejoin_errant_masters
  start_redis

  write_env_files
  export_env

  # ---- APP HOOK ---------------------------------------------------------
  # Service nodes, varnish, front haproxy, migrations and seeding belong to
  # scripts/lib/stack-app.sh (not part of the infra).  It can use everything
  # from lib/stack-common.sh and the exported env above, and should drop its
  # pid files into $STACK_PID_DIR (front-*, varnish-*, service-*) so that
  # 'stop' picks them up.
  if app_selected && [[ -f "$APP_HOOK" ]]; then
    # shellcheck source=/dev/null
    source "$APP_HOOK"
    stack_app_start
  fi
  # -----------------------------------------------------------------------
  if monitoring_selected; then
    # shellcheck source=/dev/null
    [[ -f "$APP_HOOK" ]] && source "$APP_HOOK" # service_port, for the scrape targets
    stack_monitoring_start
  fi

  log "stack '$STACK_NAME' is up ($((SECONDS - t0))s); settings in $STACK_DIR/env.sh and env.json"
}

cmd_stop() {
  local purge=0
  while (($#)); do
    case "$1" in
      --purge) purge=1 ;;
      -*) die "unknown option $1" ;;
      *) COMPONENT=$1 ;;
    esac
    shift
  done
  validate_component
  if ((purge)) && [[ -n "$COMPONENT" ]]; then
    die "--purge deletes the whole stack; don't combine it with a component"
  fi
  if [[ ! -d "$STACK_DIR" ]]; then
    log "nothing to stop ($STACK_DIR does not exist)"
    return 0
  fi
  stack_lock

  # optional: the app script may want to stop its own way first
  if app_selected && [[ -f "$APP_HOOK" ]]; then
    # shellcheck source=/dev/null
    source "$APP_HOOK"
    if declare -F stack_app_stop >/dev/null; then
      stack_app_stop || warn "stack_app_stop failed; stopping by pid files"
    fi
  fi

  local globs
  read -r -a globs <<<"$(component_globs)"
  local failed=0
  stop_all_pids "${globs[@]}" || failed=1

  # double-check: nothing selected may survive
  local name left=()
  while read -r name; do
    [[ -n "$name" ]] || continue
    if read_pid "$name" >/dev/null; then left+=("$name"); fi
  done < <(pid_names_in_stop_order "${globs[@]}")
  if ((${#left[@]} || failed)); then
    die "still running: ${left[*]:-see warnings above}"
  fi

  if ((purge)); then
    if [[ -n "$(pid_names_in_stop_order)" ]]; then
      die "refusing to purge: pid files left in $STACK_PID_DIR"
    fi
    case "$STACK_DIR" in
      "$STACK_ROOT"/.stack/?*) rm -rf "$STACK_DIR" ;;
      *) die "refusing to delete unexpected path $STACK_DIR" ;;
    esac
    log "purged $STACK_DIR"
  fi
}

STATUS_OK=1
status_line() {
  # status_line NAME PORT -> prints the line; returns 0 if up
  local name=$1 port=$2 pid
  if pid=$(read_pid "$name"); then
    if port_listening "$port"; then
      printf '%-22s running  pid %-8s port %s\n' "$name" "$pid" "$port"
      return 0
    fi
    printf '%-22s BROKEN   pid %-8s port %s not listening\n' "$name" "$pid" "$port"
  else
    printf '%-22s stopped  %-12s port %s\n' "$name" "" "$port"
  fi
  STATUS_OK=0
  return 1
}

# Value of KEY in the "   Key: value" lines of a \G result on stdin.
vertical_field() { awk -v k="$1" '$1 == k":" {sub(/^[^:]*: ?/, ""); print; exit}'; }

status_mariadb() {
  local x=$1 out io sql lag err
  status_line "mariadb-$x" "$(mdb_port "$x")" || return 0
  if ! out=$(mariadb --defaults-file="$(mdb_cnf "$x")" --connect-timeout=5 -e 'SHOW SLAVE STATUS\G' 2>&1); then
    printf '    replication: cannot query (%s)\n' "$out"
    STATUS_OK=0
    return 0
  fi
  if [[ -z "$out" ]]; then
    printf '    replication: not configured\n'
    STATUS_OK=0
    return 0
  fi
  io=$(vertical_field Slave_IO_Running <<<"$out")
  sql=$(vertical_field Slave_SQL_Running <<<"$out")
  lag=$(vertical_field Seconds_Behind_Master <<<"$out")
  printf '    replication from mariadb-%s: Slave_IO_Running=%s Slave_SQL_Running=%s Seconds_Behind_Master=%s Gtid_IO_Pos=%s\n' \
    "$(mdb_peer "$x")" "$io" "$sql" "$lag" "$(vertical_field Gtid_IO_Pos <<<"$out")"
  err=$(vertical_field Last_IO_Error <<<"$out")
  [[ -z "$err" ]] || printf '    Last_IO_Error: %s\n' "$err"
  err=$(vertical_field Last_SQL_Error <<<"$out")
  [[ -z "$err" ]] || printf '    Last_SQL_Error: %s\n' "$err"
  [[ "$io" == Yes && "$sql" == Yes ]] || STATUS_OK=0
  # ON except on the master the DB HAProxy routes writes to (its writer agent opens that one alone)
  printf '    read_only: %s\n' "$(mariadb --defaults-file="$(mdb_cnf "$x")" -N -e 'SELECT IF(@@read_only, "ON (closed to writes)", "OFF (the writer)")' 2>/dev/null || echo unknown)"
}

status_haproxy_db() {
  status_line haproxy-db "$PORT_HAPROXY_DB_WRITER" || return 0
  printf '    writer %s, reader %s, stats http://127.0.0.1:%s/\n' \
    "$PORT_HAPROXY_DB_WRITER" "$PORT_HAPROXY_DB_READER" "$PORT_HAPROXY_DB_STATS"
  command -v curl >/dev/null 2>&1 || return 0
  local csv
  csv=$(curl -fsS --max-time 2 -K - "http://127.0.0.1:$PORT_HAPROXY_DB_STATS/;csv" <<<"user = \"$STATS_USER:$STATS_PASSWORD\"" 2>/dev/null) || return 0
  # columns: pxname svname ... status(18) weight(19) act(20) bck(21)
  # a node HAProxy doesn't route to counts as "not up", whatever its process does
  awk -F, '$1 ~ /^mysql-/ && $2 !~ /^(FRONTEND|BACKEND)$/ {
             printf "    %-13s %-10s %-6s%s\n", $1, $2, $18, ($21 == 1 ? " (backup)" : "")
             if ($18 !~ /^UP/) bad = 1 }
           END { exit bad }' <<<"$csv" || STATUS_OK=0
}

redis_info_field() { awk -F: -v k="$1" '$1 == k {sub(/\r$/, "", $2); print $2; exit}'; }

status_redis() {
  local name=$1 port=$2 info role keys mem maxmem extra=""
  status_line "$name" "$port" || return 0
  info=$(rcli -p "$port" info 2>/dev/null | tr -d '\r') || true
  role=$(redis_info_field role <<<"$info")
  keys=$(grep '^db[0-9]*:' <<<"$info" | tr '\n' ' ' || true)
  mem=$(redis_info_field used_memory_human <<<"$info")
  maxmem=$(redis_info_field maxmemory_human <<<"$info")
  if [[ "$role" == slave ]]; then
    local link
    link=$(redis_info_field master_link_status <<<"$info")
    extra=" master=$(redis_info_field master_host <<<"$info"):$(redis_info_field master_port <<<"$info") link=$link"
    [[ "$link" == up ]] || STATUS_OK=0
  elif [[ "$role" == master ]]; then
    extra=" connected_slaves=$(redis_info_field connected_slaves <<<"$info")"
  fi
  printf '    role=%s%s keyspace: %s memory: %s / maxmemory %s (%s)\n' \
    "$role" "$extra" "${keys:-empty}" "$mem" "$maxmem" "$(redis_info_field maxmemory_policy <<<"$info")"
  # The judgement sysadmins page on (docs/operations.md): the check plugin itself, so both always agree.
  local check rc=0
  check=$(REDISCLI_AUTH="$REDIS_EXPORTER_PASSWORD" "$STACK_ROOT/bin/check_catalog_redis" --user "$REDIS_EXPORTER_USER" -p "$port" -t 5) || rc=$?
  printf '    %s\n' "${check%% | *}"
  ((rc == 0)) || STATUS_OK=0
}

# Exactly one of the two nodes may be primary; which one is Sentinel's call.
status_redis_topology() {
  local r1 r2
  r1=$(redis_role "$PORT_REDIS_PRIMARY")
  r2=$(redis_role "$PORT_REDIS_REPLICA")
  if [[ "$r1" == master && "$r2" == master ]]; then
    printf '    redis: BOTH nodes are primaries (split after a failover?); Sentinel should demote one\n'
    STATUS_OK=0
  elif [[ "$r1" == slave && "$r2" == master ]]; then
    printf '    redis: failed over, redis-replica (:%s) is the primary now\n' "$PORT_REDIS_REPLICA"
  fi
}

status_sentinel() {
  status_line redis-sentinel "$PORT_REDIS_SENTINEL" || return 0
  local addr
  addr=$(rcli -p "$PORT_REDIS_SENTINEL" sentinel get-master-addr-by-name catalog 2>/dev/null | paste -sd: - || true)
  local info
  info=$(rcli -p "$PORT_REDIS_SENTINEL" info sentinel 2>/dev/null | tr -d '\r' | grep '^master0:' || true)
  printf '    catalog primary at %s; %s\n' "${addr:-unknown}" "${info#master0:}"
}

# What a writer agent answers HAProxy right now ("up#why" / "down#why").
agent_verdict() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && cat <&3' _ "$1" 2>/dev/null || echo unknown
}

cmd_status() {
  local n
  COMPONENT=${1:-}
  validate_component
  echo "stack '$STACK_NAME' (offset $STACK_PORT_OFFSET) in $STACK_DIR"
  [[ -f "$SECRETS_FILE" ]] || { echo "=> not created yet (no $SECRETS_FILE)"; return 1; }
  ensure_secrets
  selected mariadb-a && status_mariadb a
  selected mariadb-b && status_mariadb b
  for n in a b; do
    selected "db-agent-$n" || continue
    if status_line "db-agent-$n" "$(component_port "db-agent-$n")"; then
      printf '    may mariadb-%s take writes: %s\n' "$n" "$(agent_verdict "$(component_port "db-agent-$n")")"
    else
      STATUS_OK=0
    fi
  done
  selected haproxy-db && status_haproxy_db
  selected redis-primary && status_redis redis-primary "$PORT_REDIS_PRIMARY"
  selected redis-replica && status_redis redis-replica "$PORT_REDIS_REPLICA"
  selected redis-prices-primary && status_redis redis-prices-primary "$PORT_REDIS_PRICES_PRIMARY"
  selected redis-prices-replica && status_redis redis-prices-replica "$PORT_REDIS_PRICES_REPLICA"
  selected redis-sentinel && status_sentinel
  for n in redis-sentinel-2 redis-sentinel-3; do
    selected "$n" && { status_line "$n" "$(component_port "$n")" || STATUS_OK=0; }
  done
  if selected redis-primary || selected redis-replica; then
    status_redis_topology
  fi

  # anything else that other scripts registered in the pids folder
  local name port
  while read -r name; do
    [[ -n "$name" ]] || continue
    [[ " ${INFRA_COMPONENTS[*]} " == *" $name "* ]] && continue
    selected "$name" || continue
    port=$(component_port "$name")
    if [[ -n "$port" ]]; then
      status_line "$name" "$port" || true
    elif read_pid "$name" >/dev/null; then
      printf '%-22s running  pid %s\n' "$name" "$(read_pid "$name")"
    else
      printf '%-22s stopped  (stale pid file)\n' "$name"
      STATUS_OK=0
    fi
  done < <(pid_names_in_stop_order | tac)

  # ---- APP HOOK ----
  if app_selected && [[ -f "$APP_HOOK" ]]; then
    export_env
    # shellcheck source=/dev/null
    source "$APP_HOOK"
    if declare -F stack_app_status >/dev/null; then
      stack_app_status || STATUS_OK=0
    fi
  fi
  if monitoring_selected; then
    stack_monitoring_status || STATUS_OK=0
  fi

  if ((STATUS_OK)); then
    echo "=> all up"
    return 0
  fi
  echo "=> NOT all up"
  return 1
}

cmd_env() {
  [[ -f "$SECRETS_FILE" ]] || die "stack '$STACK_NAME' has not been started yet (no $SECRETS_FILE)"
  ensure_secrets
  case "${1:-}" in
    "") env_shell ;;
    --json | json) env_json ;;
    *) die "env takes no component; use 'env' or 'env --json'" ;;
  esac
}

# One command on the DB HAProxy's admin socket.
haproxy_db_cmd() {
  node -e 'const c = require("net").connect(process.argv[1]);
    c.on("error", (e) => { console.error(e.message); process.exit(1); });
    c.end(process.argv[2] + "\n"); c.pipe(process.stdout);' "$STACK_DIR/haproxy-db/haproxy-db.sock" "$1"
}

# The writer is sticky (infra/haproxy/db.cfg.tmpl): after a failover it stays on the master that took over.
# `writer a|b` moves it deliberately, and only to a master whose agent says it is not behind its peer.
cmd_writer() {
  local to=${1:-} from entry
  is_running haproxy-db "$PORT_HAPROXY_DB_WRITER" || die "haproxy-db is not running"
  entry=$(haproxy_db_cmd "show table mysql-writer" | sed -n 's/.*server_key=\([^ ]*\).*/\1/p')
  from=${entry#mariadb-}
  if [[ -z "$to" ]]; then
    echo "writes go to: ${entry:-mariadb-a (no sticky entry yet: the first master that is up)}"
    for n in a b; do printf '  mariadb-%s: %s\n' "$n" "$(agent_verdict "$(component_port "db-agent-$n")")"; done
    return 0
  fi
  [[ "$to" == a || "$to" == b ]] || die "writer takes a or b"
  [[ "$to" != "$from" ]] || { log "writes already go to mariadb-$to"; return 0; }
  local verdict
  verdict=$(agent_verdict "$(component_port "db-agent-$to")")
  [[ "$verdict" == up* ]] || die "mariadb-$to may not take writes: ${verdict#*#}"
  local other=a
  [[ "$to" == a ]] && other=b
  # Park the other master for a moment, so the next connection (and the sticky entry) goes to $to.
  haproxy_db_cmd "set server mysql-writer/mariadb-$other state maint" >/dev/null
  haproxy_db_cmd "clear table mysql-writer" >/dev/null
  node -e 'require("net").connect(+process.argv[1], "127.0.0.1").on("connect", function () { this.destroy(); })' \
    "$PORT_HAPROXY_DB_WRITER"
  sleep 0.5
  haproxy_db_cmd "set server mysql-writer/mariadb-$other state ready" >/dev/null
  # Connections still open to the old writer are cut: from now on only $to takes writes.
  haproxy_db_cmd "shutdown sessions server mysql-writer/mariadb-$other" >/dev/null
  log "writes now go to mariadb-$to ($(haproxy_db_cmd "show table mysql-writer" | sed -n 's/.*server_key=\([^ ]*\).*/\1/p'))"
}

main() {
  # `npm start -- --help`, `npm run stack:status -- --help`: help, whatever the command before it.
  for arg in "$@"; do [[ $arg == -h || $arg == --help ]] && { usage; return 0; }; done
  local cmd=${1:-}
  (($#)) && shift
  case "$cmd" in
    start)
      COMPONENT=${1:-}
      validate_component
      cmd_start
      ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    writer) cmd_writer "$@" ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
