#!/usr/bin/env bash
# npm start and npm run bench: builds only when a source changed since the last build. nest build
# (deleteOutDir) takes about a minute on a busy 2-core machine; a start with nothing changed should not.
# The stamp dist/.build-stamp is written after every successful build; any build input newer than it
# (apps, libs, bench, the tsconfigs, nest-cli.json, package-lock.json) triggers a build.
#   scripts/build-if-changed.sh          build if needed, and say why (or why not)
#   BUILD_FORCE=1 scripts/build-if-changed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=dist/.build-stamp
if [[ "${BUILD_FORCE:-0}" != 1 && -f $stamp ]]; then
  changed=$(find apps libs bench tsconfig.json tsconfig.build.json nest-cli.json package-lock.json \
    -newer "$stamp" -type f \( -name '*.ts' -o -name '*.json' \) -not -path '*/node_modules/*' -print -quit)
  if [[ -z $changed ]]; then
    echo "[build] dist is up to date (nothing changed since $(date -r "$stamp" '+%F %T')); BUILD_FORCE=1 rebuilds"
    exit 0
  fi
  echo "[build] $changed changed since the last build: nest build (about a minute) ..."
else
  echo "[build] no build stamp: nest build (about a minute) ..."
fi
started=$(date +%s)
# Stamped with the time the build started: a file saved during the build triggers the next one.
next=$(mktemp)
trap 'rm -f "$next"' EXIT
npx nest build catalog-service
mv "$next" "$stamp" # mv keeps the file's mtime
echo "[build] done in $(($(date +%s) - started)) s"
