"""Child process for test_wake: `bestbox voice ARGS...` run as `python -m bestbox` runs it, and the
request audio the turn was handed (VoiceSession.run_audio) written to OUT.wav (16 kHz), so the test
can judge on the loudness envelope that the spoken request was recorded whole. argv: OUT.wav, ARGS..."""
from __future__ import annotations

import sys

from bestbox.audio.wavfile import write_wav
from bestbox.cli import main
from bestbox.speech.voice_turn import VoiceSession


def run() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    run_audio = VoiceSession.run_audio

    async def recorded(self, audio, **kw):
        write_wav(out, audio, 16000)  # run_audio takes 16 kHz mono float32
        return await run_audio(self, audio, **kw)

    VoiceSession.run_audio = recorded
    return main(argv)


if __name__ == "__main__":
    sys.exit(run())
