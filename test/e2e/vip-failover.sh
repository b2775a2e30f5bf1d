#!/usr/bin/env bash
# keepalived VIP takeover, for real: three network namespaces on one bridge (a client and two front hosts),
# each front host running HAProxy (infra/haproxy/front.cfg.tmpl) and keepalived
# (infra/keepalived/keepalived.conf.tmpl). Kills the HAProxy of the host that holds the VIP and measures how
# long the VIP takes to answer again, from the other host. Prints one line:
#   takeover_ms=<n> failed_probes=<n> from=<host> to=<host>
# Namespaces are named <prefix>-*, with a prefix unique to this test stack (STACK_PORT_OFFSET); they are
# removed at exit whatever happens, and leftovers of an earlier crashed run with the same prefix first.
# Needs root (ip netns). Run by test/e2e/vip-failover.test.ts.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PREFIX="kv${STACK_PORT_OFFSET:-0}"
VIP=10.77.0.100
PORT=8080
STATS=8088
TIMEOUT_S=${VIP_TAKEOVER_TIMEOUT_S:-20}
WORK=$(mktemp -d /tmp/vip-failover.XXXXXX)

say() { printf '[vip] %s\n' "$*" >&2; }
now_ms() { date +%s%3N; }

# Only namespaces with our prefix, and only the processes inside them (all started by this script).
# SIGTERM first, so keepalived reaps its own children instead of leaving zombies behind.
cleanup_namespaces() {
  local ns pids i
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${PREFIX}-(sw|a|b)$" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [[ -n $pids ]]; then
      # shellcheck disable=SC2086 # a list of pids
      kill -TERM $pids 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do
        [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
        sleep 0.1
      done
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      # shellcheck disable=SC2086
      [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || say "could not delete namespace $ns"
  done
}
on_exit() {
  local rc=$?
  if ((rc != 0)); then
    for f in "$WORK"/*/*.log; do
      [[ -f $f ]] && { say "--- $f"; tail -n 20 "$f" >&2; }
    done
  fi
  cleanup_namespaces
  rm -rf "$WORK"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

cleanup_namespaces
if ! ip netns add "${PREFIX}-sw" 2>"$WORK/netns.err"; then
  say "ip netns add failed: $(cat "$WORK/netns.err")"
  exit 3
fi
ip netns exec "${PREFIX}-sw" ip link set lo up
ip netns exec "${PREFIX}-sw" ip link add br0 type bridge
ip netns exec "${PREFIX}-sw" ip link set br0 up
ip netns exec "${PREFIX}-sw" ip addr add 10.77.0.1/24 dev br0

render() { # render SRC DST KEY=VALUE...: like scripts/lib/stack-common.sh render_template
  local src=$1 dst=$2 args=() kv
  shift 2
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${args[@]}" "$src" >"$dst"
  if grep -q '@[A-Z_][A-Z0-9_]*@' "$dst"; then
    say "unrendered placeholders in $dst"
    exit 1
  fi
}

# host NAME ADDR PRIORITY: a front host with HAProxy and keepalived; its "nodes" are two tiny HTTP servers
# inside its namespace that answer with the host's name, so an answer through the VIP says who served it.
start_host() {
  local h=$1 addr=$2 prio=$3 ns="${PREFIX}-$1" dir="$WORK/$1"
  mkdir -p "$dir"
  ip netns add "$ns"
  ip link add "${PREFIX}${h}0" netns "${PREFIX}-sw" type veth peer name eth0 netns "$ns"
  ip netns exec "${PREFIX}-sw" ip link set "${PREFIX}${h}0" master br0 up
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip link set eth0 up
  ip netns exec "$ns" ip addr add "$addr/24" dev eth0
  local p
  for p in 18081 18082; do
    ip netns exec "$ns" node -e "
      require('node:http').createServer((q, s) => s.end('$h')).listen($p, '127.0.0.1');
    " >"$dir/node-$p.log" 2>&1 &
    disown
  done
  render "$ROOT/infra/haproxy/front.cfg.tmpl" "$dir/haproxy.cfg" STATE_DIR="$dir" LUA_DIR="$ROOT/infra/haproxy" BIND_ADDR=0.0.0.0 \
    FRONT_PORT=$PORT STATS_PORT=$STATS VARNISH_1_ADDR=127.0.0.1:18081 VARNISH_2_ADDR=127.0.0.1:18082 \
    RATE_LIMIT_KEY=100000 RATE_LIMIT_ADDRESS=100000
  ip netns exec "$ns" haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
  echo $! >"$dir/haproxy.pid"
  disown
  render "$ROOT/infra/keepalived/keepalived.conf.tmpl" "$dir/keepalived.conf" ROUTER_ID="front-$h" \
    INTERFACE=eth0 VRID=51 PRIORITY="$prio" VIP="$VIP/24" STATS_PORT=$STATS
  ip netns exec "$ns" keepalived --dont-fork --log-console --log-detail --vrrp \
    --use-file "$dir/keepalived.conf" --pid "$dir/keepalived.pid" --vrrp_pid "$dir/vrrp.pid" \
    --checkers_pid "$dir/checkers.pid" >"$dir/keepalived.log" 2>&1 &
  disown
}

start_host a 10.77.0.11 150
start_host b 10.77.0.12 100

# probe: the name of the host that answered through the VIP, or nothing
probe() {
  ip netns exec "${PREFIX}-sw" curl -s --max-time 0.3 "http://$VIP:$PORT/v1/products/1" 2>/dev/null || true
}

deadline=$(($(now_ms) + TIMEOUT_S * 1000))
first=""
until [[ $first == a || $first == b ]]; do
  (($(now_ms) < deadline)) || {
    say "the VIP never answered"
    exit 1
  }
  sleep 0.2
  first=$(probe)
done
# (no `| grep -q` under pipefail: grep quitting early makes ip fail with SIGPIPE)
holds_vip() { [[ $(ip -n "${PREFIX}-$1" -o addr show dev eth0) == *" $VIP/"* ]]; }
holder=""
for h in a b; do
  if holds_vip "$h"; then holder=$h; fi
done
[[ $holder == "$first" ]] || {
  say "VIP held by '$holder' but answered by '$first'"
  exit 1
}
other=$([[ $holder == a ]] && echo b || echo a)
say "VIP $VIP held by $holder; killing its HAProxy"

kill -KILL "$(cat "$WORK/$holder/haproxy.pid")"
t0=$(now_ms)
failed=0
deadline=$((t0 + TIMEOUT_S * 1000))
while :; do
  got=$(probe)
  [[ $got == "$other" ]] && break
  failed=$((failed + 1))
  (($(now_ms) < deadline)) || {
    say "no answer from $other through the VIP within ${TIMEOUT_S}s (last: '$got')"
    exit 1
  }
  sleep 0.05
done
t1=$(now_ms)
holds_vip "$other" || {
  say "$other answered but does not hold the VIP"
  exit 1
}
echo "takeover_ms=$((t1 - t0)) failed_probes=$failed from=$holder to=$other"
