"""Barge-in: listen while BestBox speaks; when the user talks over it (EchoGate), stop the speech at
once and keep recording until they finish, so the new request is heard whole (from a short
pre-roll before the confirmed onset)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..audio.recorder import Recorder
from ..audio.vad import EndpointDetector
from ..trace import now_ms
from .echo_gate import RATE, EchoGate

log = logging.getLogger(__name__)
PREROLL_MS = 600


@dataclass
class BargeIn:
    audio: np.ndarray  # the user's request, 16 kHz (from a pre-roll before the onset)
    onset_ms: float  # perf-counter ms of the confirmed speech onset
    detected_ms: float  # when the gate confirmed it
    stopped_ms: float  # when the speech was stopped
    spoken_text: str  # what the listener had heard of the answer
    detail: dict = field(default_factory=dict)

    @property
    def stop_latency_ms(self) -> float:
        return self.stopped_ms - self.onset_ms


class BargeInMonitor:
    """Create it before the reply starts playing and pass `on_block` to the Speaker/ReplySpeaker
    (the reference); then `await run(speaker)` returns a BargeIn, or None when the reply played out."""

    def __init__(self, *, device: str = "", sounddevice: Any = None, silence_ms: int = 700,
                 max_record_s: float = 30.0, gate: EchoGate | None = None, sample_rate: int = 22050):
        self.gate = gate or EchoGate(now_ms())
        self.sample_rate = sample_rate
        self.device, self.sd = device, sounddevice
        self.silence_ms, self.max_record_s = silence_ms, max_record_s
        self.false_alarms = 0

    def on_block(self, block: np.ndarray, latency_ms: float = 0.0, sample_rate: int | None = None) -> None:
        """The player's output callback: what will be heard `latency_ms` from now."""
        self.gate.add_reference(block, sample_rate or self.sample_rate, now_ms() + latency_ms)

    async def run(self, speaker) -> BargeIn | None:
        """speaker: a ReplySpeaker (stop(), spoken_text, finished)."""
        rec = Recorder(device=self.device, sounddevice=self.sd, max_record_s=self.max_record_s)
        vad: EndpointDetector | None = None
        hit: dict = {}
        async for block in rec.blocks():
            if vad is None:
                if self.gate.feed(block.samples, block.captured_ms):
                    hit["detected_ms"] = now_ms()
                    speaker.stop()
                    hit["stopped_ms"] = now_ms()
                    hit["spoken"] = speaker.spoken_text
                    vad = EndpointDetector(silence_ms=self.silence_ms, start_frames=1)
                    start = self.gate.triggered_at - RATE * PREROLL_MS // 1000
                    hit["start"] = start
                    vad.feed(self.gate.audio(start))
                elif speaker.finished.is_set():
                    rec.stop()
            else:
                self.gate.feed(block.samples, block.captured_ms)
                if any(e.kind == "ended" for e in vad.feed(block.samples)):
                    rec.stop()
        if vad is None:
            return None
        audio = self.gate.audio(hit["start"])
        end = vad.last_voiced_sample
        if end is not None:
            audio = audio[:end + RATE // 5]
        return BargeIn(audio, self.gate.timeline_ms(self.gate.triggered_at), hit["detected_ms"], hit["stopped_ms"],
                       hit["spoken"], {"lag_ms": None if self.gate.lag is None else self.gate.lag * 20,
                                       "leak": self.gate.leak})
