#!/usr/bin/env bash
# Start the light llama-server (routing, ASR cleanup, quick answers) in the foreground.
BESTBOX_SERVER=light exec "$(dirname "${BASH_SOURCE[0]}")/start-llm.sh" "$@"
