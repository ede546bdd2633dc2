"""Microphone capture, resampling to 16 kHz mono, and end-of-speech detection. No Qt here."""
