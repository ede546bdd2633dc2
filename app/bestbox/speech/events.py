"""What a voice session tells its listeners, and the errors a user sees.

Events (`VoiceEvent.kind`, `data` keys), delivered on the event loop via `on_event` and `events()`:
    recording_started   device, samplerate, mode
    level               dbfs (≈ 20 per second while recording)
    speech_started      at_s
    silence_started     at_s (the speculative transcription started 80 ms after the last voiced frame)
    speech_resumed      at_s (the speculation is discarded)
    recording_stopped   reason (vad_end | stopped | max_length | device_error | cancelled | file),
                        audio_s, dropped_blocks, error (a device that went away; audio is kept)
    transcribing        audio_s, speculative (bool)
    transcript_raw      text, confident, asr_ms, avg_logprob, no_speech_prob, reused_speculation
    no_speech           message ("I didn't catch that."), reason; nothing else is sent on
    transcript_clean    text, raw, cleaned, changed, reason, cleanup_ms  (replaces the raw bubble text)
    error               message
    ended               result (the dict `bestbox voice --json` prints)

The answer's events are the pipeline's own `TurnEvent`s: whoever wants them subscribes to the
pipeline (see `speech.handoff`), not to the voice session."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


DIDNT_CATCH = "I didn't catch that."

VOICE_EVENT_KINDS = ("recording_started", "level", "speech_started", "silence_started", "speech_resumed",
                     "recording_stopped", "transcribing", "transcript_raw", "no_speech", "transcript_clean",
                     "error", "ended")


@dataclass
class VoiceEvent:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in VOICE_EVENT_KINDS:
            raise ValueError(f"unknown voice event kind {self.kind!r}")


class VoiceInputError(RuntimeError):
    """A turn that could not start or hear anything: the message is for the user."""

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.kind = kind  # microphone | file | model | no_speech | cancelled


def didnt_catch(peak_dbfs: float) -> str:
    """The message for a recording without speech, saying how loud its loudest frame was."""
    why = "only silence" if peak_dbfs < -50 else "no speech, only noise"
    return f"{DIDNT_CATCH} ({why} was recorded: loudest {peak_dbfs:.0f} dBFS)"
