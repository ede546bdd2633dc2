"""Run in a child process (PortAudio must start after XDG_RUNTIME_DIR points at the test's
PulseAudio): stream an answer's tokens into a ReplySpeaker that plays on the default output (the
null sink), and print what happened as JSON."""
from __future__ import annotations

import json
import sys
import threading
import time

from bestbox.pipeline.events import TurnEvent
from bestbox.speak.engines import make_engine
from bestbox.speak.reply import ReplySpeaker
from bestbox.trace import TurnTrace


def main(engine_name: str, answer: str, stop_after_s: float | None = None) -> None:
    engine = make_engine(engine_name)
    trace = TurnTrace()
    rs = ReplySpeaker(engine, output=True, trace=trace)
    words = answer.split(" ")
    for i, w in enumerate(words):  # about a small model's pace
        rs.on_event(TurnEvent("token", {"text": w + (" " if i < len(words) - 1 else "")}))
        time.sleep(0.02)
    trace.mark("done")
    rs.on_event(TurnEvent("done", {"answer": answer}))
    if stop_after_s is not None:
        threading.Event().wait(stop_after_s)
        rs.stop()
    rs.wait(120)
    rs.close()
    print(json.dumps({"first_audio_ms": trace.marks.get("first_audio"), "done_ms": trace.marks["done"],
                      "queued": rs.speaker.state.queued, "spoken": rs.spoken_text,
                      "seconds": rs.audio().size / engine.sample_rate, "output_error": rs.speaker.output_error}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else None)
