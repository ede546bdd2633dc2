#!/usr/bin/env bash
# Start the heavy llama-server (agents, tools, long answers) in the foreground, from the same
# config the app uses, for people who run the servers outside the app. The app adopts it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BB="$ROOT/.venv/bin/bestbox"
[ -x "$BB" ] || { echo "Run launchers/bestbox once first to set up BestBox." >&2; exit 1; }
eval "set -- $("$BB" servers command "${BESTBOX_SERVER:-heavy}")"
echo "+ $*" >&2
exec "$@"
