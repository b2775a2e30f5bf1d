#!/usr/bin/env bash
# Installs what the local stack and the tests need: Debian packages (only the
# missing ones) and the npm dependencies.  Safe to run again and again; when
# everything is there it only checks and exits within a second or so.
#
#   scripts/setup.sh            packages + npm dependencies
#   SETUP_SKIP_NPM=1 scripts/setup.sh      packages only
#   SETUP_FORCE_NPM=1 scripts/setup.sh     reinstall node_modules regardless
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

# `dpkg -s` also succeeds for removed-but-not-purged packages, hence the
# explicit status check.
is_installed() {
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

missing=()
for p in "${PACKAGES[@]}"; do
  is_installed "$p" || missing+=("$p")
done

if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
else
  log "Debian packages: all ${#PACKAGES[@]} present"
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
    echo "[setup] npm not found; install Node.js >= 20.19 first" >&2
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
