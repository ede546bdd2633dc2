"""Child process for test_wake: a WakeListener on the virtual microphone (sounddevice must be imported
after XDG_RUNTIME_DIR points at the test's PulseAudio). Prints {"state": ...} lines as they change
(the parent plays the clip once "listening" shows), then {"result": ...}; the request is written as a
16 kHz WAV. argv: model, out.wav."""
from __future__ import annotations

import json
import sys
import threading

from bestbox.audio.wavfile import write_wav
from bestbox.speech.wake_listener import WakeListener


def main() -> int:
    model, out_wav = sys.argv[1], sys.argv[2]
    states: list[str] = []
    got: list = []
    done = threading.Event()

    def on_state(s: str) -> None:
        states.append(s)
        print(json.dumps({"state": s}), flush=True)

    def on_request(audio, info) -> None:
        got.append((audio, info))
        done.set()

    listener = WakeListener(model, on_state=on_state, on_request=on_request)
    listener.start()
    done.wait(60)
    paused = listener.state
    listener.resume()  # listening again after the turn
    threading.Event().wait(0.5)
    resumed = listener.state
    listener.close()
    result = {"states": states, "after_request": paused, "after_resume": resumed, "detections": listener.detections}
    if got:
        audio, info = got[0]
        result["info"] = info
        if audio is not None:
            result["request"] = str(write_wav(out_wav, audio, 16000))
    print(json.dumps({"result": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
