"""The labelled set of spoken requests for `bestbox bench --only turn_end`.

Two splits. `dev`: the requests the completeness rules of `speech/turn_end.py` were tuned on
(espeak-ng's default voice). `held_out`: other requests in other voices and speeds, never looked at
while tuning (written before the rules were changed; their results are reported, not tuned on).
Each split has finished requests said in one go and requests with a mid-sentence pause of 0.4-1.2 s
(two clips joined by silence), some paused right after words that already make a request (the hard
case for any text rule). Pause lengths are spread so that the fixed 700 ms window cuts some and not
others.
"""
from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..audio.wavfile import write_wav
from . import utterances as U


class Clip(NamedTuple):
    key: str
    first: str
    pause: float | None   # None: a finished request said in one go
    second: str = ""
    voice: str = ""       # espeak-ng voice ("": its default)
    wpm: int = 0          # words per minute (0: espeak's default, 175)
    split: str = "dev"


DEV = [
    Clip("c_vendors", "show me the top vendors by spend", None),
    Clip("c_overdue", "are any invoices overdue", None),
    Clip("c_backup", "did the backup finish without errors", None),
    Clip("c_vacation", "how many vacation days do I have left", None),
    Clip("c_vpn", "the vpn is down, open a ticket", None),
    Clip("c_percent", "what is 15% of 80", None),
    Clip("c_northwind", "call Northwind", None),
    Clip("c_report", "send the monthly sales report to finance", None),
    Clip("c_meeting", "schedule a meeting with the design team on friday", None),
    Clip("c_stock", "how many laptops are in stock", None),
    Clip("c_password", "reset my email password", None),
    Clip("p_invoices", "list the unpaid invoices from", 0.9, "last month"),
    Clip("p_vendors", "show me the top vendors for", 1.2, "the third quarter"),
    Clip("p_ticket", "open a ticket because the", 0.6, "printer is jammed"),
    Clip("p_vacation", "how many vacation days do I", 0.4, "have left"),
    Clip("p_room", "book a meeting room for tomorrow at", 0.8, "ten"),
    Clip("p_northwind", "call Northwind", 0.5, "about the late delivery"),
    Clip("p_report", "send the monthly sales report to", 0.7, "the finance team"),
    Clip("p_stock", "how many laptops do we", 0.5, "have in stock"),
    Clip("p_meeting", "schedule a meeting with", 1.0, "the design team"),
    Clip("p_password", "reset the password for", 0.6, "my email account"),
    Clip("p_orders", "show me the orders", 0.8, "from last week"),
    Clip("p_approve", "can you", 0.5, "approve my expense report"),
]
# Other phrases, other voices and speeds (the hearing bench's held-out voices among them).
_H = [("en-us", 175), ("en+f3", 160), ("en-us-nyc", 190), ("en-gb-scotland", 160)]
HELD_OUT = [Clip(k, a, p, b, *_H[i % len(_H)], split="held_out") for i, (k, a, p, b) in enumerate([
    ("hc_contract", "when does the Contoso contract expire", None, ""),
    ("hc_budget", "what is left in the marketing budget", None, ""),
    ("hc_printer", "the printer on the third floor is jammed", None, ""),
    ("hc_sick", "file a sick day for today", None, ""),
    ("hc_customers", "who are our biggest customers this year", None, ""),
    ("hc_laptop", "order a new laptop for Maria", None, ""),
    ("hc_server", "check the server status", None, ""),
    ("hp_contract", "when does the", 0.7, "Contoso contract expire"),
    ("hp_budget", "what is left in the marketing budget for", 0.9, "next quarter"),
    ("hp_printer", "the printer on the third floor is", 0.6, "jammed again"),
    ("hp_sick", "file a sick day for me and", 1.1, "tell my manager"),
    ("hp_customers", "who are our biggest customers", 0.8, "in Germany"),
    ("hp_laptop", "order a new laptop for", 0.5, "the new hire"),
    ("hp_could", "could you", 1.0, "check the server status"),
    ("hp_owe", "how much do we owe", 0.6, "to our suppliers"),
    ("hp_expense", "approve the expense report from", 0.4, "the sales team"),
])]
CLIPS = DEV + HELD_OUT
QUICK = ("c_vendors", "c_overdue", "p_invoices", "p_vendors", "hc_budget", "hp_laptop")


def _read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768, w.getframerate()


def _trim(a: np.ndarray) -> np.ndarray:
    nz = np.nonzero(np.abs(a) > 1e-3)[0]
    return a[nz[0]:nz[-1] + 1] if len(nz) else a


def _say(text: str, path: Path, voice: str, wpm: int) -> Path:
    if not voice and not wpm:
        return U.speak(text, path)
    exe = shutil.which("espeak-ng")
    if exe is None and path.exists():
        return path  # spoken earlier on another machine (the GPU machine has no espeak-ng)
    if exe is None:
        raise U.EspeakMissing("espeak-ng is not installed (apt install espeak-ng): no spoken clips")
    subprocess.run([exe, "-v", voice or "en", "-s", str(wpm or 175), "-w", str(path), text], check=True,
                   capture_output=True, timeout=60)
    return path


def make_clip(d: Path, key: str, first: str, pause: float | None, second: str = "", voice: str = "",
              wpm: int = 0, split: str = "dev") -> tuple[Path, float]:
    """The clip's WAV and the time (s) its last word ends."""
    out = d / f"{key}.wav"
    if out.exists() and not (shutil.which("espeak-ng") or shutil.which("espeak")):
        return out, _end_s(out)  # packed for a machine without espeak-ng
    a, rate = _read(_say(first, d / f"{key}-a.wav", voice, wpm))
    parts = [np.zeros(int(U.LEAD_SILENCE_S * rate), np.float32), _trim(a)]
    if pause is not None:
        b, _ = _read(_say(second, d / f"{key}-b.wav", voice, wpm))
        parts += [np.zeros(int(pause * rate), np.float32), _trim(b)]
    parts.append(np.zeros(int(U.TAIL_SILENCE_S * rate), np.float32))
    return write_wav(out, np.concatenate(parts), rate), _end_s(out)


def _end_s(path: Path) -> float:
    """Where the clip's last word ends (s): its last sample above the trim level."""
    a, rate = _read(path)
    nz = np.nonzero(np.abs(a) > 1e-3)[0]
    return (nz[-1] + 1) / rate if len(nz) else len(a) / rate
