"""Child process for the barge-in tests (PortAudio must start after XDG_RUNTIME_DIR points at the
test's PulseAudio, whose null sink's monitor is the microphone, so the microphone hears BestBox).

Plays a long answer through a ReplySpeaker on the sink and listens with a BargeInMonitor. With an
interruption WAV, a second output stream plays it into the same sink `at_s` seconds after the answer
starts (a person talking over BestBox). Prints JSON: whether a barge-in fired, its latencies, and
the request audio's path."""
from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
import wave

import numpy as np

from bestbox.pipeline.events import TurnEvent
from bestbox.speak.barge_in import BargeInMonitor
from bestbox.audio.wavfile import write_wav
from bestbox.speak.engines import make_engine
from bestbox.speak.reply import ReplySpeaker
from bestbox.trace import now_ms


def play_interruption(path: str, at_s: float, out: dict, rs) -> None:
    import sounddevice as sd

    while not rs.speaker.state.heard:  # `at_s` after BestBox's first sound
        time.sleep(0.01)
    with wave.open(path) as w:
        sr = w.getframerate()
        a = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
    time.sleep(at_s)
    lead = int(np.argmax(np.abs(a) > 0.02))  # the first voiced sample
    with sd.OutputStream(samplerate=sr, channels=1, dtype="float32") as st:
        # When the first voiced sample reaches the sink: now, plus what the stream has buffered.
        out["onset_ms"] = now_ms() + lead * 1000 / sr + st.latency * 1000
        st.write(a.reshape(-1, 1))


async def main(engine_name: str, answer: str, interruption: str | None, at_s: float, out_wav: str) -> None:
    engine = make_engine(engine_name)
    mon = BargeInMonitor(sample_rate=engine.sample_rate)
    # At the microphone BestBox's echo is ~10 dB below a person talking to it (the loopback would
    # otherwise hear it at full level, louder than any room); the gate wants the user 8 dB above.
    rs = ReplySpeaker(engine, output=True, on_block=mon.on_block, volume=0.3)
    for s in [answer]:
        rs.on_event(TurnEvent("done", {"answer": s}))
    info: dict = {}
    if interruption:
        threading.Thread(target=play_interruption, args=(interruption, at_s, info, rs), daemon=True).start()
    hit = await mon.run(rs)
    rs.wait(5)
    rs.close()
    res = {"barge_in": hit is not None, "queued": len(rs.speaker.state.queued),
           "played_s": rs.audio().size / engine.sample_rate, "lag_ms": mon.gate.lag and mon.gate.lag * 20, "lag_corr": mon.gate.lag_corr,
           "leak": mon.gate.leak, "user_frames": mon.gate.user_frames}
    if hit is not None:
        write_wav(out_wav, hit.audio, 16000)
        res.update(spoken=hit.spoken_text, stop_ms=hit.stopped_ms - info.get("onset_ms", hit.onset_ms),
                   detect_ms=hit.detected_ms - info.get("onset_ms", hit.onset_ms),
                   gate_onset_error_ms=hit.onset_ms - info.get("onset_ms", hit.onset_ms), request=out_wav,
                   request_s=len(hit.audio) / 16000)
    import os
    if os.environ.get("BARGE_DUMP"):
        g = mon.gate
        np.savez(os.environ["BARGE_DUMP"], mic=g.mic.buf[:g.mic.end], ref=g.ref.buf[:g.ref.end], mic_start=g.mic.start,
                 trig=g.triggered_at or -1)
    print(json.dumps(res))


if __name__ == "__main__":
    a = sys.argv
    asyncio.run(main(a[1], a[2], a[3] or None, float(a[4]), a[5]))
