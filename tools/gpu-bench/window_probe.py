"""Whisper's short window against the full one on one machine: the app's Transcriber on the packed
asr clips (pack-fast.sh packs them), each cut at several ends after its last voiced sample (as speculations are, so the encoder
sees many input lengths), interleaved per call. Prints one JSON document.
usage: python window_probe.py <whisper dir> <wav dir> <device> <compute type>
On the GPU machine (carry .gpu5; ~30 s): see "Whisper reads a short window" in docs/benchmarks.md."""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from bestbox.audio.vad import find_speech
from bestbox.audio.wavfile import read_audio
from bestbox.config import Config
from bestbox.speech.glossary import Glossary
from bestbox.speech.transcriber import Transcriber

model, wavs, device, ctype = sys.argv[1:5]
g = Glossary()
prompt = g.whisper_prompt(g.for_whisper())
modes = {"full": "full", "short": "short"}
ts = {}
for name, window in modes.items():
    cfg = Config()
    cfg.speech.whisper_model, cfg.speech.device, cfg.speech.compute_type = model, device, ctype
    cfg.speech.whisper_window = window
    ts[name] = Transcriber(cfg)
    ts[name].load()
cuts = []
for f in sorted(Path(wavs).glob("asr_*.wav")):
    a = read_audio(str(f)).audio
    first, last = find_speech(a)
    for tail_ms in (80, 100, 120, 140, 160, 200, 240, 300):
        cuts.append((f.stem, tail_ms, a[:min(len(a), last + tail_ms * 16)]))
out = {name: [] for name in modes}
for rep in range(2):
    for stem, tail_ms, seg in cuts:
        for name in modes:
            r = ts[name].transcribe_sync(seg, initial_prompt=prompt)
            out[name].append({"clip": stem, "tail_ms": tail_ms, "rep": rep, "ms": r.asr_ms, "text": r.text})
summary = {name: {"median_ms": statistics.median(x["ms"] for x in v if x["rep"] == 1),
                  "by_clip": {c: statistics.median(x["ms"] for x in v if x["clip"] == c and x["rep"] == 1)
                              for c in sorted({x["clip"] for x in v})}} for name, v in out.items()}
print(json.dumps({"device": device, "compute_type": ctype, "summary": summary, "samples": out}, indent=1))
