#!/usr/bin/env bash
# Installs what the clients' checks and browser tests need (needs network):
# Debian's Chromium for the browser tests, and both npm packages from their lock files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "==> apt: chromium"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
echo "==> npm ci: clients/ts"
npm ci --prefix clients/ts --no-audit --no-fund
echo "==> npm ci: clients/web"
npm ci --prefix clients/web --no-audit --no-fund
