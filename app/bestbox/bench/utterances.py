"""The benchmark's fixed inputs: typed questions, router requests, and spoken clips (espeak-ng WAVs
written into the run's output folder at run time, so nothing binary is shipped).

Every list is fixed so that two runs (or two machines) measure the same work. `quick` picks a
subset for the test.
"""
from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.wavfile import write_wav

RATE = 16000


@dataclass(frozen=True)
class Utterance:
    key: str
    text: str
    agent: str  # what a person would route it to


# Router decisions: clear requests (the fast path is confident) and vague ones (it is not, so the
# hybrid router asks the light model).
ROUTER = [
    Utterance("vendors", "show me the top five vendors by spend", "erp"),
    Utterance("invoices", "list the unpaid invoices from last month", "erp"),
    Utterance("pipeline", "how is the sales pipeline this quarter", "crm"),
    Utterance("vpn", "the vpn is down, open a ticket", "it_ops"),
    Utterance("room", "book a meeting room for tomorrow at ten", "oa"),
    Utterance("percent", "what is 15% of 80", "general"),
    Utterance("late", "Northwind is late again", "erp"),
    Utterance("follow", "please follow up with them", "crm"),
    Utterance("off", "the numbers look off", "erp"),
]

# Whole typed turns: the same questions for every configuration.
TYPED = [
    Utterance("vendors", "show me the top five vendors by spend", "erp"),
    Utterance("vacation", "how many vacation days do I have left", "oa"),
    Utterance("vpn", "the vpn is down, open a ticket", "it_ops"),
    Utterance("percent", "what is 15% of 80", "general"),
]
TYPED_WARMUP = Utterance("warmup", "did last night's backups succeed", "it_ops")

# Whole voice turns (spoken by espeak-ng). "vendors" tends to come back as "menders", a near miss of
# a glossary word: that transcript is cleaned up before answering; the other is answered at once.
VOICE = [
    Utterance("v_vacation", "how many vacation days do I have left this year", "oa"),
    Utterance("v_vendors", "show me the top vendors", "erp"),
]

# ASR by utterance length (espeak-ng at its default rate: ~1, 3, 5 and 10 s of audio).
ASR = {
    1: Utterance("asr_1s", "top vendors", "erp"),
    3: Utterance("asr_3s", "how many vacation days do I have left this year", "oa"),
    5: Utterance("asr_5s", "open a ticket because the VPN is down and nobody in the office can reach the file "
                           "server", "it_ops"),
    10: Utterance("asr_10s", "I need the purchase orders from last quarter for the Northwind vendor, grouped by "
                             "warehouse, and please also show the invoices that are still unpaid, and which of "
                             "them are past their due date", "erp"),
}

# Pauses around a spoken clip, like a person at a microphone.
LEAD_SILENCE_S = 0.4
TAIL_SILENCE_S = 1.2


def selection(quick: bool) -> dict:
    """The inputs a run uses: everything, or a small subset (`--quick`)."""
    if quick:
        return {"router": [ROUTER[0], ROUTER[3], ROUTER[6]], "typed": [TYPED[0], TYPED[3]],
                "voice": [VOICE[0]], "asr": {k: ASR[k] for k in (1, 3)}}
    return {"router": [ROUTER[i] for i in (0, 2, 3, 4, 5, 6, 7)], "typed": [TYPED[0], TYPED[1], TYPED[3]],
            "voice": list(VOICE), "asr": dict(ASR)}


class EspeakMissing(RuntimeError):
    pass


def speak(text: str, path: Path) -> Path:
    """espeak-ng's voice for `text`, padded with silence before and after, as a 16-bit WAV at
    espeak's own rate (22.05 kHz; the app resamples like a microphone's audio)."""
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None and path.exists():
        return path  # spoken earlier on another machine (the GPU machine has no espeak-ng)
    if exe is None:
        raise EspeakMissing("espeak-ng is not installed (apt install espeak-ng): no spoken clips")
    raw = path.with_suffix(".raw.wav")
    subprocess.run([exe, "-w", str(raw), text], check=True, capture_output=True, timeout=60)
    with wave.open(str(raw), "rb") as w:
        rate = w.getframerate()
        a = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    raw.unlink(missing_ok=True)
    padded = np.concatenate([np.zeros(int(LEAD_SILENCE_S * rate), np.float32), a,
                             np.zeros(int(TAIL_SILENCE_S * rate), np.float32)])
    return write_wav(path, padded, rate)


def make_wavs(out_dir: Path, utterances: list[Utterance]) -> dict[str, Path]:
    d = Path(out_dir) / "wav"
    d.mkdir(parents=True, exist_ok=True)
    return {u.key: speak(u.text, d / f"{u.key}.wav") for u in utterances}
