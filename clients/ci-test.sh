#!/usr/bin/env bash
# The clients' checks, after clients/install.sh. No network needed.
#
#   clients/ci-test.sh          contract check, type checks, unit tests, builds, browser tests
#   clients/ci-test.sh unit     everything but the browser tests
#   clients/ci-test.sh e2e      the browser tests only (the page must be built)
#
# The browser tests need LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET and a LiveKit
# server running there; they start and stop the worker and the page's endpoint themselves.
# Their worker uses local speech (STT_MODEL/TTS_MODEL=local unless set: espeak-ng must be
# installed, as clients/install.sh does) and every scenario must run
# (SESSION_SYNC_REQUIRE_VOICE=0 lets a worker without speech-to-text skip the voice one).
#
# The seed type check reads the messages the agent sent in a pytest run made with
# `--wire-samples DIR` (SESSION_SYNC_WIRE_SAMPLES=DIR, as .ci/run sets); without one it runs
# tests/plugin and tests/contract itself to record them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:-all}"
export PATH="$HOME/.local/bin:$PATH"
if command -v uv >/dev/null 2>&1; then PY=(uv run --no-sync python); else PY=(.venv/bin/python); fi

if [ "$what" = all ] || [ "$what" = unit ]; then
  echo "==> contract: docs/schema and clients/ts/src/generated match the plugin's models"
  "${PY[@]}" scripts/gen_contract.py --check
  echo "==> clients/ts: tsc --strict (including the seed type check)"
  npm --prefix clients/ts run --silent typecheck
  echo "==> seed types: every kind of message the agent sends, against the seed's interfaces"
  samples="${SESSION_SYNC_WIRE_SAMPLES:-}"
  if [ -z "$samples" ] || [ ! -f "$samples/samples.json" ]; then
    samples="$(mktemp -d)"
    trap 'rm -rf "$samples"' EXIT
    "${PY[@]}" -m pytest -q -rfE -p no:cacheprovider tests/plugin tests/contract --wire-samples "$samples"
  fi
  node clients/ts/scripts/check-seed-samples.mjs "$samples/samples.json" --self-test
  echo "==> clients/ts: unit tests"
  npm --prefix clients/ts test --silent
  echo "==> clients/ts: build"
  npm --prefix clients/ts run --silent build
  echo "==> clients/web: type check and build"
  npm --prefix clients/web run --silent build
  echo "==> clients/hooks: type check and build, at the agent starter's versions and the newest"
  npm --prefix clients/hooks run --silent build
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
  # The worker runs every session type on this machine (pocketsphinx and espeak-ng), so the
  # voice scenario runs too; a skipped scenario fails the run.
  export STT_MODEL="${STT_MODEL:-local}" TTS_MODEL="${TTS_MODEL:-local}"
  export SESSION_SYNC_REQUIRE_VOICE="${SESSION_SYNC_REQUIRE_VOICE:-1}"
  echo "==> clients/web: browser tests against $LIVEKIT_URL (STT_MODEL=$STT_MODEL TTS_MODEL=$TTS_MODEL)"
  npm --prefix clients/web run --silent test:e2e
  echo "==> clients/hooks: components-react's agent hooks in every session type, both versions"
  npm --prefix clients/hooks run --silent test:e2e
fi
