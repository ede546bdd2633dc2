"""The audio tests share the speech tests' spoken phrases (espeak-ng WAVs in a tmp dir)."""
from speech.conftest import espeak_wavs, voice_dir  # noqa: F401
