#!/usr/bin/env bash
# The README's test command. Small tests first, then medium and e2e against a real stack that this script
# starts (STACK_NAME=test, ports +1000, data in .stack/test) and always stops again, also after a failure.
# e2e needs root for its keepalived test (network namespaces, test/e2e/vip-failover.sh).
#   scripts/test.sh [all|unit|medium|e2e|chaos|bench]
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
export STACK_NAME=${STACK_NAME:-test} STACK_PORT_OFFSET=${STACK_PORT_OFFSET:-1000}

step() { printf '\n=== %s\n' "$*"; }

# node:test on the compiled tests: Nest 12 ships ES modules, which Node loads natively (require(esm)) but
# Jest's module runtime cannot. Path aliases resolve against dist-test through tsconfig-paths.
run_tests() {
  TS_NODE_PROJECT=tsconfig.test.json TS_NODE_BASEURL=./dist-test \
    node -r tsconfig-paths/register --enable-source-maps --test --test-concurrency=1 --test-reporter=spec "$@"
}

step "typecheck, lint, format, build"
npm run -s check
npm run -s lint
npm run -s format:check
npm run -s infra:check
npm run -s build
rm -rf dist-test && npx tsc -p tsconfig.test.json

step "contract: committed OpenAPI document matches the code, no breaking change since the last release, lint"
npm run -s contract:check
npm run -s contract:lint
# The typed client of test/e2e/typed-client.test.ts is generated from the committed contract: no drift.
npm run -s contract:client >/dev/null
git diff --quiet -- test/typed-client || { echo "test/typed-client differs from the contract: npm run contract:client, then commit"; exit 1; }

if [[ $what == all || $what == unit ]]; then
  step "small tests"
  run_tests $(find dist-test/apps dist-test/libs dist-test/chaos -name '*.spec.js')
fi
[[ $what == unit ]] && exit 0

trap 'step "stopping the test stack"; scripts/stack.sh stop' EXIT
step "starting the test stack ($STACK_NAME, port offset $STACK_PORT_OFFSET)"
# Medium tests run the app in process and count queries on the servers, so no service nodes yet.
SERVICE_NODES=0 SEED_PRODUCTS=1000 scripts/stack.sh start

if [[ $what == all || $what == medium ]]; then
  step "migrations match the entities (typeorm migration:generate --check on the stack's MariaDB)"
  (set -a && . ".stack/$STACK_NAME/env.sh" && set +a && npm run -s migration:check)
  step "medium tests (real Redis and MariaDB)"
  run_tests $(find dist-test/test/medium -name '*.test.js')
fi
if [[ $what == all || $what == e2e ]]; then
  step "e2e tests (the whole stack over HTTP)"
  # Each node gets its Varnish, and the front HAProxy goes over them; a low per-key rate limit so the
  # rate-limit test reaches it in a few hundred requests.
  SERVICE_NODES=2 SEED_PRODUCTS=1000 FRONT_RATE_LIMIT_KEY=300 scripts/stack.sh start
  e2e=$(find dist-test/test/e2e -name '*.test.js' 2>/dev/null || true)
  [[ -z $e2e ]] || run_tests $e2e
fi
if [[ $what == all || $what == chaos ]]; then
  # The short chaos run (docs/chaos.md) on a stack of its own: faults under load, every acknowledged write
  # checked. A data-safety failure fails npm test; the overload p99 is reported only in --quick.
  step "chaos experiments (npm run chaos -- --quick)"
  scripts/stack.sh stop >/dev/null
  chaos_stop() { STACK_NAME=chaos-test STACK_PORT_OFFSET=$((STACK_PORT_OFFSET + 1100)) scripts/stack.sh stop; }
  trap 'step "stopping the chaos stack"; chaos_stop' EXIT
  CHAOS_STACK_NAME=chaos-test CHAOS_PORT_OFFSET=$((STACK_PORT_OFFSET + 1100)) node dist/chaos/run.js --quick
fi
if [[ $what == all || $what == bench ]]; then
  # CI proves the benchmark harness works (a few seconds per scenario); it does not judge the figures.
  step "benchmark harness (npm run bench -- --quick)"
  scripts/stack.sh stop >/dev/null
  trap 'step "stopping the bench stack"; STACK_NAME=bench STACK_PORT_OFFSET=$((STACK_PORT_OFFSET + 900)) scripts/stack.sh stop' EXIT
  BENCH_PORT_OFFSET=$((STACK_PORT_OFFSET + 900)) node dist/bench/run.js --quick 2>&1 | tail -25
fi
