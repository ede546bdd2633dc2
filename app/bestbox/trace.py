"""A turn's trace: the one definition of stages and timings that the CLI's JSON, the chat
badges and the benchmark all read.

Times are kept relative to `t0_ms`; callers that measured elsewhere (a worker thread, the
microphone's clock) hand over absolute `now_ms()` times and the trace converts them."""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field


def now_ms() -> float:
    return time.perf_counter() * 1000.0


@dataclass
class Stage:
    name: str
    start_ms: float
    end_ms: float | None = None
    detail: dict = field(default_factory=dict)

    @property
    def ms(self) -> float | None:
        return None if self.end_ms is None else self.end_ms - self.start_ms


# A voice turn's own numbers, by the mark or stage they come from (the mark "transcript" makes a
# trace a voice turn's: its t0 is then the last voiced sample, the end of speech). "vad_end" (the
# detector closed the recording) exists only where a detector did, so `vad_wait_ms` too.
VOICE_MARKS = {"speech_end_to_transcript_ms": "transcript", "speech_end_to_first_token_ms": "first_token"}
VOICE_STAGES = {"asr_ms": "asr", "cleanup_ms": "cleanup"}


@dataclass
class TurnTrace:
    """Stages are timed relative to `t0_ms` (input complete: Enter pressed, recording closed, or
    for voice the capture time of the last voiced sample)."""

    t0_ms: float = field(default_factory=now_ms)
    stages: list[Stage] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)
    values: dict[str, float | int | str | bool | None] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str, **detail):
        st = Stage(name, now_ms() - self.t0_ms, detail=dict(detail))
        self.stages.append(st)
        try:
            yield st
        finally:
            st.end_ms = now_ms() - self.t0_ms

    def add_stage(self, name: str, start_ms: float, end_ms: float, **detail) -> Stage:
        """Record a stage measured elsewhere (e.g. in a worker thread), from absolute `now_ms()` times."""
        st = Stage(name, start_ms - self.t0_ms, end_ms - self.t0_ms, dict(detail))
        self.stages.append(st)
        return st

    def mark(self, name: str, at_ms: float | None = None) -> float:
        """First occurrence wins (e.g. first_token). `at_ms`: an absolute `now_ms()` time; default now."""
        if name not in self.marks:
            self.marks[name] = (now_ms() if at_ms is None else at_ms) - self.t0_ms
        return self.marks[name]

    def elapsed_ms(self) -> float:
        return now_ms() - self.t0_ms

    def stage_ms(self, name: str) -> float | None:
        total = [s.ms for s in self.stages if s.name == name and s.ms is not None]
        return sum(total) if total else None

    @property
    def is_voice(self) -> bool:
        return "transcript" in self.marks

    def timings(self) -> dict:
        """Flat numbers for JSON output and badges (a voice turn's own numbers included)."""
        out: dict = {
            "route_ms": self.stage_ms("route"),
            "ttft_ms": self.marks.get("first_token"),
            "first_output_ms": self.marks.get("first_output"),
            "total_ms": self.marks.get("done"),
        }
        for s in self.stages:
            if s.name not in ("route",):
                out.setdefault(f"{s.name}_ms", self.stage_ms(s.name))
        if self.is_voice:
            for key, stage in VOICE_STAGES.items():
                out[key] = self.stage_ms(stage)
            for key, mark in VOICE_MARKS.items():
                out[key] = self.marks.get(mark)
            if "vad_end" in self.marks:
                out["vad_wait_ms"] = self.marks["vad_end"]
        if "first_audio" in self.marks:  # a spoken reply: its first sound left the speaker
            out["first_audio_ms"] = self.marks["first_audio"]
        out.update(self.values)
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in out.items()}

    def to_dict(self) -> dict:
        return {
            "timings": self.timings(),
            "stages": [
                {"name": s.name, "start_ms": round(s.start_ms, 2),
                 "ms": None if s.ms is None else round(s.ms, 2), **({"detail": s.detail} if s.detail else {})}
                for s in self.stages
            ],
        }
