"""End-of-speech detection for 16 kHz mono audio.

`EndpointDetector` is energy based, per 20 ms frame: a noise floor that follows the quietest
recent frames (falls at once, rises at most `floor_rise_db_s`), an onset threshold `on_db` above
the floor and a lower release threshold `off_db` (hysteresis), a few voiced frames to start speech.
The silence timer starts only after speech began, and counts from the last voiced sample:

    speech_started(at_sample)  enough consecutive voiced frames
    silence_started(at_sample) `hangover_ms` of silence after speech (at_sample = last voiced + 1);
                               the voice turn starts its speculative transcription here
    speech_resumed(at_sample)  speech again after silence_started (speculation is discarded)
    ended(at_sample)           `silence_ms` of silence after the last voiced sample (auto mode only;
                               hold-to-talk never ends on silence)

`last_voiced_sample` is the index just past the last voiced frame: the turn's clock starts there.

`silero_speech_ms()` confirms with the Silero VAD that faster-whisper bundles (ONNX), so a
recording of noise, clicks or a fan does not reach Whisper.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..config import VAD_SILENCE_MS

RATE = 16000


@dataclass
class VadEvent:
    kind: Literal["speech_started", "silence_started", "speech_resumed", "ended"]
    at_sample: int

    @property
    def at_s(self) -> float:
        return self.at_sample / RATE


class EndpointDetector:
    def __init__(self, *, silence_ms: int = VAD_SILENCE_MS, mode: Literal["auto", "hold"] = "auto",
                 frame_ms: int = 20, on_db: float = 10.0, off_db: float = 6.0,
                 min_on_dbfs: float = -50.0, min_off_dbfs: float = -56.0,
                 start_frames: int = 3, resume_frames: int = 2, hangover_ms: int = 160,
                 floor_window_ms: int = 1000, floor_rise_db_s: float = 6.0):
        self.mode = mode
        self.frame = RATE * frame_ms // 1000
        self.silence_samples = RATE * silence_ms // 1000
        self.hangover_samples = RATE * hangover_ms // 1000
        self.on_db, self.off_db = on_db, off_db
        self.min_on, self.min_off = min_on_dbfs, min_off_dbfs
        self.start_frames, self.resume_frames = start_frames, resume_frames
        self._window: deque[float] = deque(maxlen=max(1, floor_window_ms // frame_ms))
        self._rise = floor_rise_db_s * frame_ms / 1000.0
        self.floor: float | None = None
        self._pending = np.zeros(0, dtype=np.float32)
        self.samples_seen = 0
        self.in_speech = False  # speech has begun (and not ended)
        self.speech_start_sample: int | None = None
        self.last_voiced_sample: int | None = None
        self.silence_reported = False
        self.ended = False
        self._run = 0  # consecutive voiced frames
        self.max_dbfs = -100.0

    def set_silence_ms(self, ms: int) -> None:
        """Change the silence that ends the turn from now on (the smart turn end decides it per pause)."""
        self.silence_samples = RATE * int(ms) // 1000

    @property
    def speech_detected(self) -> bool:
        return self.speech_start_sample is not None

    def _frame_db(self, f: np.ndarray) -> float:
        rms = float(np.sqrt(np.mean(np.square(f, dtype=np.float64))))
        return max(-100.0, 20.0 * np.log10(rms + 1e-12))

    def _update_floor(self, db: float) -> None:
        self._window.append(db)
        cand = min(self._window)
        if self.floor is None or cand < self.floor:
            self.floor = cand
        else:
            self.floor = min(cand, self.floor + self._rise)

    def feed(self, samples: np.ndarray) -> list[VadEvent]:
        """Feed 16 kHz mono float32; returns the events this audio caused, in order."""
        buf = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        n = len(buf) // self.frame
        self._pending = buf[n * self.frame:]
        events: list[VadEvent] = []
        for i in range(n):
            if self.ended:
                break
            f = buf[i * self.frame:(i + 1) * self.frame]
            start = self.samples_seen
            self.samples_seen += self.frame
            db = self._frame_db(f)
            self.max_dbfs = max(self.max_dbfs, db)
            self._update_floor(db)
            assert self.floor is not None
            active = self.in_speech and not self.silence_reported
            thr = max(self.floor + self.off_db, self.min_off) if active else max(self.floor + self.on_db, self.min_on)
            voiced = db > thr
            self._run = self._run + 1 if voiced else 0
            end = start + self.frame
            if not self.in_speech:
                if self._run >= self.start_frames:
                    self.in_speech = True
                    self.speech_start_sample = end - self._run * self.frame
                    self.last_voiced_sample = end
                    events.append(VadEvent("speech_started", self.speech_start_sample))
                continue
            if voiced and not self.silence_reported:
                self.last_voiced_sample = end
            elif voiced and self._run >= self.resume_frames:
                self.silence_reported = False
                self.last_voiced_sample = end
                events.append(VadEvent("speech_resumed", end - self._run * self.frame))
            assert self.last_voiced_sample is not None
            quiet = self.samples_seen - self.last_voiced_sample
            if not self.silence_reported and quiet >= self.hangover_samples:
                self.silence_reported = True
                events.append(VadEvent("silence_started", self.last_voiced_sample))
            if self.mode == "auto" and self.silence_reported and quiet >= self.silence_samples:
                self.ended = True
                events.append(VadEvent("ended", self.last_voiced_sample))
        return events


def find_speech(audio: np.ndarray, **kw) -> tuple[int | None, int | None]:
    """(first, last) voiced sample of a whole recording by the energy detector; (None, None) if
    it found no speech. Used for WAV files, where the whole signal is at hand."""
    det = EndpointDetector(mode="hold", **kw)
    det.feed(audio)
    det.feed(np.zeros(det.frame, dtype=np.float32))
    return det.speech_start_sample, det.last_voiced_sample


_silero = None


def silero_speech_ms(audio: np.ndarray, threshold: float = 0.5) -> float | None:
    """Milliseconds of speech Silero VAD finds (faster-whisper's bundled ONNX model), or None when
    it is unavailable. CPU, roughly 1-3 % of real time."""
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except Exception:
        return None
    try:
        ts = get_speech_timestamps(np.asarray(audio, dtype=np.float32),
                                   VadOptions(threshold=threshold, min_speech_duration_ms=120,
                                              min_silence_duration_ms=300, speech_pad_ms=0))
    except Exception:
        return None
    return sum(t["end"] - t["start"] for t in ts) * 1000.0 / RATE
