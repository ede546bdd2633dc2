"""Child process for the virtual-microphone test: sounddevice/PortAudio must be imported after
XDG_RUNTIME_DIR points at the test's PulseAudio, so the recording runs here. Prints one JSON line
per event and the result last."""
from __future__ import annotations

import asyncio
import json
import sys


async def main() -> int:
    from bestbox.config import Config
    from bestbox.speech.voice_turn import VoiceSession

    cfg = Config()
    cfg.speech.max_record_s = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    if len(sys.argv) > 2:
        cfg.speech.turn_end = sys.argv[2]

    def on_event(ev) -> None:
        if ev.kind in ("level", "ended"):
            return
        print(json.dumps({"event": ev.kind, **{k: v for k, v in ev.data.items() if k != "event"}}, default=str),
              flush=True)

    s = VoiceSession(cfg, on_event=on_event, cleanup=False)
    await s.preload()
    print(json.dumps({"event": "model_ready"}), flush=True)
    r = await s.listen(mode="auto")
    print(json.dumps({"result": r}, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
