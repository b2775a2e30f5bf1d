# shellcheck shell=bash
# Shared helpers for the local stack scripts (stack.sh and the later
# service-node / varnish / front-haproxy scripts).  Source it; don't run it.
#
# After sourcing you have:
#   STACK_ROOT STACK_NAME STACK_PORT_OFFSET STACK_DIR STACK_PID_DIR STACK_LOG_DIR
#   PORT_* variables (already offset), see stack_ports
#   log/warn/die, render_template, port_listening, wait_port,
#   pid_alive, read_pid, is_running, start_bg, stop_pid, stop_all_pids,
#   clean_stale_pids, stack_lock
#
# Every process is tracked by exactly one file: $STACK_PID_DIR/<name>.pid
# (plain pid, one line, so `kill "$(cat x.pid)"` works for humans too).
# start_bg also writes <name>.stamp with the kernel start time of that pid, so
# a pid that was recycled by an unrelated process after a crash is never
# mistaken for ours (and never killed).

if [[ -n "${_STACK_COMMON_LOADED:-}" ]]; then
  return 0
fi
_STACK_COMMON_LOADED=1

STACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
STACK_NAME="${STACK_NAME:-dev}"
STACK_PORT_OFFSET="${STACK_PORT_OFFSET:-0}"

# The name ends up in paths that stop --purge deletes: keep it boring.
if [[ ! "$STACK_NAME" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
  echo "stack: invalid STACK_NAME '$STACK_NAME' (letters, digits, . _ - only)" >&2
  exit 2
fi
if [[ ! "$STACK_PORT_OFFSET" =~ ^[0-9]+$ ]] || ((STACK_PORT_OFFSET > 30000)); then
  echo "stack: invalid STACK_PORT_OFFSET '$STACK_PORT_OFFSET' (integer 0..30000)" >&2
  exit 2
fi

STACK_DIR="$STACK_ROOT/.stack/$STACK_NAME"
STACK_PID_DIR="$STACK_DIR/pids"
STACK_LOG_DIR="$STACK_DIR/logs"
export STACK_ROOT STACK_NAME STACK_PORT_OFFSET STACK_DIR

# ---------------------------------------------------------------- output --

log() { printf '[stack:%s] %s\n' "$STACK_NAME" "$*"; }
warn() { printf '[stack:%s] WARNING: %s\n' "$STACK_NAME" "$*" >&2; }
die() {
  printf '[stack:%s] ERROR: %s\n' "$STACK_NAME" "$*" >&2
  exit 1
}

# ----------------------------------------------------------------- ports --

# Base ports live here only, so every script agrees on them.
# shellcheck disable=SC2034 # used by the scripts that source this file
stack_ports() {
  local o=$STACK_PORT_OFFSET
  PORT_MARIADB_A=$((23306 + o))
  PORT_MARIADB_B=$((23307 + o))
  PORT_HAPROXY_DB_WRITER=$((23316 + o))
  PORT_HAPROXY_DB_READER=$((23317 + o))
  PORT_HAPROXY_DB_STATS=$((23318 + o))
  PORT_DB_AGENT_A=$((23319 + o))
  PORT_DB_AGENT_B=$((23320 + o))
  PORT_REDIS_PRIMARY=$((26379 + o))
  PORT_REDIS_REPLICA=$((26380 + o))
  # Prices and stock on a Redis of their own (shard by type), followed by the same Sentinels. (26381-26389
  # are the bench processes'; 26390-26392 the Sentinels.)
  PORT_REDIS_PRICES_PRIMARY=$((26393 + o))
  PORT_REDIS_PRICES_REPLICA=$((26394 + o))
  PORT_REDIS_SENTINEL=$((26390 + o))
  PORT_REDIS_SENTINEL_2=$((26391 + o))
  PORT_REDIS_SENTINEL_3=$((26392 + o))
  PORT_SERVICE_1=$((28081 + o))
  PORT_SERVICE_2=$((28082 + o))
  # The HTTP cluster must fit in 28080..28179 (offsets step by 100): 28181 would be the service port of
  # the stack 100 above.
  PORT_VARNISH_1=$((28091 + o))
  PORT_VARNISH_2=$((28092 + o))
  PORT_FRONT=$((28080 + o))
  PORT_FRONT_STATS=$((28088 + o))
  PORT_VARNISH_ADMIN_1=$((28095 + o))
  PORT_VARNISH_ADMIN_2=$((28096 + o))
  # Monitoring (scripts/lib/stack-monitoring.sh) in 29100..29199: the exporters' usual ports (9104 mysqld,
  # 9121 redis, 9131 varnish, 9090 Prometheus) moved to 29xxx. The HAProxys export on their stats ports.
  PORT_EXPORTER_MYSQLD_A=$((29104 + o))
  PORT_EXPORTER_MYSQLD_B=$((29105 + o))
  PORT_EXPORTER_REDIS_PRIMARY=$((29121 + o))
  PORT_EXPORTER_REDIS_REPLICA=$((29122 + o))
  PORT_EXPORTER_REDIS_PRICES_PRIMARY=$((29123 + o))
  PORT_EXPORTER_REDIS_PRICES_REPLICA=$((29124 + o))
  PORT_PROMETHEUS=$((29190 + o))
}
varnish_exporter_port() { echo $((29130 + $1 + STACK_PORT_OFFSET)); }
stack_ports

# Port of a tracked component, by its pid-file name ("" if none/unknown).
component_port() {
  case "$1" in
    mariadb-a) echo "$PORT_MARIADB_A" ;;
    mariadb-b) echo "$PORT_MARIADB_B" ;;
    haproxy-db) echo "$PORT_HAPROXY_DB_WRITER" ;;
    db-agent-a) echo "$PORT_DB_AGENT_A" ;;
    db-agent-b) echo "$PORT_DB_AGENT_B" ;;
    redis-primary) echo "$PORT_REDIS_PRIMARY" ;;
    redis-replica) echo "$PORT_REDIS_REPLICA" ;;
    redis-prices-primary) echo "$PORT_REDIS_PRICES_PRIMARY" ;;
    redis-prices-replica) echo "$PORT_REDIS_PRICES_REPLICA" ;;
    redis-sentinel) echo "$PORT_REDIS_SENTINEL" ;;
    redis-sentinel-2) echo "$PORT_REDIS_SENTINEL_2" ;;
    redis-sentinel-3) echo "$PORT_REDIS_SENTINEL_3" ;;
    service-1) echo "$PORT_SERVICE_1" ;;
    service-2) echo "$PORT_SERVICE_2" ;;
    varnish-1) echo "$PORT_VARNISH_1" ;;
    varnish-2) echo "$PORT_VARNISH_2" ;;
    front-haproxy) echo "$PORT_FRONT" ;;
    exporter-mysqld-a) echo "$PORT_EXPORTER_MYSQLD_A" ;;
    exporter-mysqld-b) echo "$PORT_EXPORTER_MYSQLD_B" ;;
    exporter-redis-primary) echo "$PORT_EXPORTER_REDIS_PRIMARY" ;;
    exporter-redis-replica) echo "$PORT_EXPORTER_REDIS_REPLICA" ;;
    exporter-redis-prices-primary) echo "$PORT_EXPORTER_REDIS_PRICES_PRIMARY" ;;
    exporter-redis-prices-replica) echo "$PORT_EXPORTER_REDIS_PRICES_REPLICA" ;;
    exporter-varnish-[0-9]) varnish_exporter_port "${1#exporter-varnish-}" ;;
    prometheus) echo "$PORT_PROMETHEUS" ;;
    *) echo "" ;;
  esac
}

# True if something listens on 127.0.0.1:$1.  Looks at the socket table
# instead of connecting: a bare TCP connect counts as a connection error on
# MariaDB (and enough of those get 127.0.0.1 host-blocked).
port_listening() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# wait_port PORT TIMEOUT_SECONDS [PID]: poll until listening; gives up early
# when PID dies, so a crash is reported at once instead of after the timeout.
wait_port() {
  local port=$1 timeout=${2:-30} pid=${3:-}
  local deadline=$((SECONDS + timeout))
  until port_listening "$port"; do
    if [[ -n "$pid" ]] && ! pid_alive "$pid"; then
      return 1
    fi
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# ------------------------------------------------------------- processes --

# Alive and not a zombie.  PID 1 in some containers never reaps orphans, so
# a killed daemon can linger as a zombie that `kill -0` still reports alive.
pid_alive() {
  local pid=$1 stat
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ "${stat%% *}" != "Z" && "${stat%% *}" != "X" ]]
}

# Kernel start time (clock ticks since boot) of a pid: field 22 of stat.
pid_starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  # after "comm)" the fields start at #3, so field 22 is word 20
  awk '{print $20}' <<<"$stat"
}

pid_file() { echo "$STACK_PID_DIR/$1.pid"; }

# Prints the recorded pid of NAME if that process is still the one we
# started; returns 1 otherwise.
read_pid() {
  local name=$1 file pid stamp
  file=$(pid_file "$name")
  [[ -f "$file" ]] || return 1
  pid=$(head -n1 "$file" 2>/dev/null | tr -dc '0-9')
  pid_alive "$pid" || return 1
  if [[ -f "$STACK_PID_DIR/$name.stamp" ]]; then
    stamp=$(cat "$STACK_PID_DIR/$name.stamp")
    [[ "$(pid_starttime "$pid")" == "$stamp" ]] || return 1
  fi
  echo "$pid"
}

# is_running NAME [PORT]: recorded pid alive and (if given) the port answers.
is_running() {
  local name=$1 port=${2:-}
  read_pid "$name" >/dev/null || return 1
  [[ -z "$port" ]] || port_listening "$port"
}

record_pid() {
  local name=$1 pid=$2
  mkdir -p "$STACK_PID_DIR"
  echo "$pid" >"$STACK_PID_DIR/$name.pid"
  pid_starttime "$pid" >"$STACK_PID_DIR/$name.stamp" 2>/dev/null ||
    rm -f "$STACK_PID_DIR/$name.stamp"
}

# start_bg NAME CMD...: runs CMD detached (own session, so it outlives this
# shell and its terminal), output appended to logs/NAME.log, pid recorded.
# CMD must stay in the foreground (no self-daemonizing) so the pid is right.
# Prints the pid.
start_bg() {
  local name=$1
  shift
  mkdir -p "$STACK_PID_DIR" "$STACK_LOG_DIR"
  local logf="$STACK_LOG_DIR/$name.log"
  printf '\n===== %s starting %s: %s\n' "$(date '+%F %T')" "$name" "$*" >>"$logf"
  # A non-interactive shell's background job is not a process-group leader,
  # so setsid execs in place (no extra fork) and $! is the daemon's pid.
  # 9>&-: the daemon must not inherit (and so hold forever) the stack lock.
  setsid "$@" </dev/null >>"$logf" 2>&1 9>&- &
  local pid=$!
  record_pid "$name" "$pid"
  echo "$pid"
}

# start_fresh_log NAME CMD...: start_bg for processes that make their stdout non-blocking with F_SETFL,
# which drops O_APPEND (HAProxy): appended to, such a log is overwritten from offset 0. A fresh file per start
# instead, the previous one kept as NAME.log.1. Prints the pid.
start_fresh_log() {
  local name=$1
  shift
  mkdir -p "$STACK_PID_DIR" "$STACK_LOG_DIR"
  local logf="$STACK_LOG_DIR/$name.log"
  [[ -f "$logf" ]] && mv -f "$logf" "$logf.1"
  setsid "$@" </dev/null >"$logf" 2>&1 9>&- &
  local pid=$!
  record_pid "$name" "$pid"
  echo "$pid"
}

# stop_pid NAME [GRACE_SECONDS]: SIGTERM, wait, then SIGKILL that pid only.
# Removes the pid file.  Returns 1 if the process could not be stopped.
stop_pid() {
  local name=$1 grace=${2:-20} pid file
  file=$(pid_file "$name")
  if ! pid=$(read_pid "$name"); then
    if [[ -f "$file" ]]; then
      log "$name was not running (removed stale pid file)"
    fi
    rm -f "$file" "$STACK_PID_DIR/$name.stamp"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while pid_alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if pid_alive "$pid"; then
    warn "$name (pid $pid) ignored SIGTERM for ${grace}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while pid_alive "$pid" && ((SECONDS < deadline)); do
      sleep 0.1
    done
  fi
  if pid_alive "$pid"; then
    warn "$name (pid $pid) is still alive"
    return 1
  fi
  rm -f "$file" "$STACK_PID_DIR/$name.stamp"
  log "stopped $name (pid $pid)"
}

# Order in which stop_all_pids works through pids/*.pid: the edge first, the
# data last.  Lower rank stops earlier; ties are stopped in reverse name
# order (redis-sentinel before redis-replica before redis-primary).
stop_rank() {
  case "$1" in
    prometheus) echo 0 ;;
    front-*) echo 1 ;;
    varnish-*) echo 2 ;;
    service-*) echo 3 ;;
    redis-*) echo 5 ;;
    haproxy-db) echo 6 ;;
    mariadb-*) echo 7 ;;
    *) echo 4 ;;
  esac
}

# Names of all pid files, in stop order.  Optional globs filter the names.
pid_names_in_stop_order() {
  local f name g ok
  (($#)) || set -- '*'
  [[ -d "$STACK_PID_DIR" ]] || return 0
  for f in "$STACK_PID_DIR"/*.pid; do
    [[ -e "$f" ]] || continue
    name=$(basename "$f" .pid)
    ok=0
    for g in "$@"; do
      # shellcheck disable=SC2053 # glob match on purpose
      if [[ "$name" == $g ]]; then ok=1; fi
    done
    ((ok)) || continue
    printf '%s %s\n' "$(stop_rank "$name")" "$name"
  done | sort -k1,1n -k2,2r | awk '{print $2}'
}

# stop_all_pids [GLOB...]: stops every tracked process (or those matching).
stop_all_pids() {
  local name failed=0 any=0
  while read -r name; do
    [[ -n "$name" ]] || continue
    any=1
    stop_pid "$name" || failed=1
  done < <(pid_names_in_stop_order "$@")
  ((any)) || log "nothing was running"
  return "$failed"
}

# Drops pid files whose process is gone (crash, reboot, kill -9).
clean_stale_pids() {
  local f name
  [[ -d "$STACK_PID_DIR" ]] || return 0
  for f in "$STACK_PID_DIR"/*.pid; do
    [[ -e "$f" ]] || continue
    name=$(basename "$f" .pid)
    if ! read_pid "$name" >/dev/null; then
      log "removing stale pid file for $name (pid $(head -n1 "$f" 2>/dev/null) is gone)"
      rm -f "$f" "$STACK_PID_DIR/$name.stamp"
    fi
  done
  for f in "$STACK_PID_DIR"/*.stamp; do
    [[ -e "$f" && ! -e "${f%.stamp}.pid" ]] && rm -f "$f"
  done
  return 0
}

# Fails when PORT is taken by something that is not NAME of this stack.
ensure_port_free() {
  local name=$1 port=$2
  if port_listening "$port"; then
    die "port $port (for $name) is already in use by another process; pick another STACK_PORT_OFFSET or stop it"
  fi
}

# ----------------------------------------------------------------- misc --

# render_template SRC DST KEY=VALUE...: replaces @KEY@ with VALUE.
render_template() {
  local src=$1 dst=$2
  shift 2
  [[ -f "$src" ]] || die "template $src not found"
  local args=() kv key val
  for kv in "$@"; do
    key=${kv%%=*}
    val=${kv#*=}
    val=${val//\\/\\\\}
    val=${val//|/\\|}
    val=${val//&/\\&}
    args+=(-e "s|@${key}@|${val}|g")
  done
  local tmp="$dst.tmp.$$"
  sed "${args[@]}" "$src" >"$tmp"
  local left
  left=$(grep -o '@[A-Z_][A-Z0-9_]*@' "$tmp" | sort -u | tr '\n' ' ' || true)
  if [[ -n "$left" ]]; then
    rm -f "$tmp"
    die "template $src: no value given for $left"
  fi
  mv -f "$tmp" "$dst"
}

# One start/stop at a time per stack: two concurrent starts would both
# bootstrap the same datadirs.
stack_lock() {
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/stack.lock"
  if ! flock -w 120 9; then
    die "another stack.sh is working on $STACK_DIR (lock held for 120s)"
  fi
}
