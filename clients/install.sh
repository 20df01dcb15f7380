#!/usr/bin/env bash
# Installs what the clients' checks and browser tests need (needs network):
# Debian's Chromium and espeak-ng for the browser tests, and the npm packages from their lock
# files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# espeak-ng: the browser tests' worker speaks its replies with the local TTS.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "==> npm ci: clients/ts"
npm ci --prefix clients/ts --no-audit --no-fund
echo "==> npm ci: clients/web"
npm ci --prefix clients/web --no-audit --no-fund
echo "==> npm ci: clients/hooks, at the agent starter's versions and at the newest"
npm ci --prefix clients/hooks --no-audit --no-fund
npm ci --prefix clients/hooks/latest --no-audit --no-fund
