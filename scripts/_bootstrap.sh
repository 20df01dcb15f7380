# Sourced by the scripts: make sure uv and the project environment exist.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

caller_path="$PATH"
export PATH="$HOME/.local/bin:$HOME/.cargo/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "==> installing uv"
  # From PyPI first: it is reachable wherever Python packages are.
  python3 -m pip install --user --quiet uv 2>/dev/null \
    || python3 -m pip install --user --quiet --break-system-packages uv 2>/dev/null \
    || curl -LsSf https://astral.sh/uv/install.sh | sh
  hash -r
  # pip may put the binary outside PATH (a user base that is not on it); the module still runs.
  if ! command -v uv >/dev/null 2>&1; then uv() { python3 -m uv "$@"; }; fi
fi

# uv_path_hint: a script cannot change its caller's PATH, so say how to find uv when the
# caller's PATH does not.
uv_path_hint() {
  local found dir shown
  found="$(command -v uv 2>/dev/null || true)"
  if [ "${found#/}" = "$found" ]; then
    echo "session-sync: uv is not on your PATH; run it as: python3 -m uv" >&2
    return 0
  fi
  dir="${found%/*}"
  case ":$caller_path:" in *":$dir:"*) return 0 ;; esac
  shown="$dir"
  if [ "${dir#"$HOME"/}" != "$dir" ]; then shown="\$HOME/${dir#"$HOME"/}"; fi
  echo "session-sync: uv is in $dir, which is not on your PATH; for the next commands run:" >&2
  echo "  export PATH=\"$shown:\$PATH\"" >&2
}

# apt_install PKG WHAT: install PKG with apt (WHAT, the thing missing, names it otherwise).
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: $2 not found; install $1 with your package manager" >&2
    return 0
  fi
  echo "==> installing $1"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null
}

# install_debian_package PKG LIBRARY: install PKG when LIBRARY is not on the machine.
install_debian_package() {
  if ldconfig -p 2>/dev/null | grep -q "$2"; then return 0; fi
  apt_install "$1" "$2"
}

# install_debian_command PKG COMMAND: install PKG when COMMAND is not on the PATH.
install_debian_command() {
  if command -v "$2" >/dev/null 2>&1; then return 0; fi
  apt_install "$1" "$2"
}

echo "==> syncing the environment"
uv sync --locked --quiet
