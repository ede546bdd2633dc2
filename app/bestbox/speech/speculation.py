"""Speculative transcription in the silence window.

The silence window (`speech.vad_silence_ms`, default `config.VAD_SILENCE_MS`) is the largest wait
in a turn. After `START_AFTER_MS` of silence after the last voiced frame, what has been recorded so
far is transcribed in the Whisper worker; if speech resumes, that result is discarded (one
speculation runs at a time, so a stale one never queues up behind another); when the turn ends
with the same last voiced sample, the result is reused and the answer starts at once.
A speculative transcript that the answer would take as it is also goes to the pipeline's
`preroute`, so routing runs in the silence window too — unless the speaker went on meanwhile."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

import numpy as np

from .transcriber import Transcript

log = logging.getLogger(__name__)
RATE = 16000
TAIL_S = 0.3  # audio kept after the last voiced sample for Whisper
# Half the detector's 160 ms hangover: the smart end of turn closes when this transcript is in, so
# on a CPU (Whisper ~200 ms) every ms here is a ms of the turn; a start inside a word's pause costs
# one discarded Whisper run (docs/benchmarks.md, end of a turn).
START_AFTER_MS = 80

def speculation_due(det) -> bool:
    """The detector (`audio.vad.EndpointDetector`) has heard `START_AFTER_MS` of silence after speech."""
    lv = det.last_voiced_sample
    return det.in_speech and not det.ended and lv is not None and det.samples_seen - lv >= START_AFTER_MS * RATE // 1000


Transcribe = Callable[[np.ndarray], Awaitable[tuple[Transcript, float, float]]]


@dataclass
class Speculation:
    last_voiced: int        # the detector's last voiced sample when it started
    end_sample: int         # the audio it transcribes ends here
    task: asyncio.Task      # → (Transcript, start_ms, end_ms)


class Speculator:
    """At most one speculation at a time, kept while it still matches the recording."""

    def __init__(self, transcribe: Transcribe, preroute: Callable[[Transcript], None] | None = None,
                 last_voiced: Callable[[], int | None] | None = None):
        self._transcribe = transcribe
        self._preroute = preroute
        self._last_voiced = last_voiced  # the recording's last voiced sample now
        self.current: Speculation | None = None

    def update(self, last_voiced: int | None, samples_recorded: int, audio: Callable[[], np.ndarray]) -> None:
        """Start a speculation on the audio up to `last_voiced` (plus a tail) unless one is up to
        date or still running (never queue a second)."""
        spec = self.current
        if last_voiced is None:
            return
        if spec is not None and (spec.last_voiced == last_voiced or not spec.task.done()):
            return
        end = min(samples_recorded, last_voiced + int(TAIL_S * RATE))
        task = asyncio.ensure_future(self._transcribe(audio()[:end].copy()))
        task.add_done_callback(lambda t: self._route(t, last_voiced))
        self.current = Speculation(last_voiced, end, task)

    def take(self, last_voiced: int | None) -> Speculation | None:
        """The speculation that matches the turn's last voiced sample; any other is cancelled."""
        spec, self.current = self.current, None
        if spec is not None and spec.last_voiced == last_voiced:
            return spec
        self.discard(spec)
        return None

    def cancel(self) -> None:
        self.discard(self.current)
        self.current = None

    @staticmethod
    def discard(spec: Speculation | None) -> None:
        if spec is not None:
            spec.task.cancel()

    def _route(self, task: asyncio.Task, last_voiced: int) -> None:
        if self._preroute is None or task.cancelled() or task.exception() is not None:
            return
        if self._last_voiced is not None and self._last_voiced() != last_voiced:
            return  # the speaker went on before the detector called it a pause: nothing to drop later
        tr = task.result()[0]
        if tr.no_speech or not tr.text.strip():
            return
        try:
            self._preroute(tr)
        except Exception as e:  # noqa: BLE001 - an optimisation: the turn routes as usual
            log.debug("preroute failed: %s", e)
