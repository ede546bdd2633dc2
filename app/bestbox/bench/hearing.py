"""`bestbox bench --only hearing`: are the words a request hinges on heard right?

A spoken set made at run time: office requests (with the demo company's vendor and customer names)
in several espeak-ng voices and speeds, some with pink room noise mixed in at a given SNR. Each clip
is transcribed raw (no prompt), with the glossary prompt (what the app does), mended
(`speech.mend`: near misses of glossary terms), after the light model's cleanup of the mended
text, and as the cleanup policy answers it (`speech.cleanup_policy`: cleaned first only when
unsure or near a glossary word). Word error rate and key-term recall for each.
The same model with the other `speech.whisper_window` (short or full) is run on the same clips with the
prompt, mended, so the two windows are compared in one run.
`BESTBOX_BENCH_WHISPER_ALT` (a faster-whisper model dir) adds a second model, timed on the same clips.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import wave
from pathlib import Path

import numpy as np

from ..audio.resample import resample
from ..trace import now_ms
from .context import Ctx, rnd
from .hearing_metrics import term_recall, wer

# (text, key terms); {vendor} / {customer} are the demo company's first names.
REQUESTS = [
    ("are any invoices overdue", ["invoices", "overdue"]),
    ("did the backup finish without errors", ["backup", "without errors"]),
    ("can we close early on friday", ["close early", "friday"]),
    ("show me the top vendors by spend", ["vendors", "spend"]),
    ("how many vacation days do I have left", ["vacation days"]),
    ("the vpn is down, open a ticket", ["vpn", "ticket"]),
    ("how much do we owe {vendor}", ["{vendor}"]),
    ("call {customer} about the late delivery", ["{customer}", "late delivery"]),
]
# (label, espeak voice, words per minute, SNR dB or None); the first three are the default voice set.
CONDITIONS = [
    ("en-us 175", "en-us", 175, None),
    ("en-gb 140", "en-gb", 140, None),
    ("en+f3 175", "en+f3", 175, None),
    ("en-us 175 +pink 10 dB", "en-us", 175, 10.0),
    ("en-gb 175 +pink 5 dB", "en-gb", 175, 5.0),
]
QUICK_CONDITIONS = (0, 3)
# Held out: never looked at while tuning the glossary, the mending or the prompt (2026-11-30); new
# requests in the default voices, and every request in voices the tuning never heard.
REQUESTS_HELD_OUT = [
    ("submit my expense report for approval", ["expense report", "approval"]),
    ("what is the status of purchase order 4512", ["purchase order"]),
    ("which shipments from {vendor} are late", ["shipments", "{vendor}"]),
    ("check the leave balance for my team", ["leave balance"]),
    ("the printer on the third floor is broken again", ["printer"]),
    ("list the unpaid invoices for {customer}", ["unpaid invoices", "{customer}"]),
]
CONDITIONS_HELD_OUT = [
    ("en-gb-scotland 160", "en-gb-scotland", 160, None),
    ("en-us-nyc 190", "en-us-nyc", 190, None),
]


def _espeak(text: str, voice: str, wpm: int, path: Path) -> np.ndarray:
    exe = shutil.which("espeak-ng")
    if exe is None and not path.exists():  # the GPU machine has none: the clips are packed (pack-voice.sh)
        raise RuntimeError("espeak-ng is not installed (apt install espeak-ng)")
    if exe is not None:
        subprocess.run([exe, "-v", voice, "-s", str(wpm), "-w", str(path), text], check=True,
                       capture_output=True, timeout=60)
    with wave.open(str(path), "rb") as w:
        a = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
        rate = w.getframerate()
    return resample(a, rate, 16000).astype(np.float32)


def _pink(n: int, path: Path) -> np.ndarray:
    """sox's pink noise at 16 kHz, n samples."""
    exe = shutil.which("sox")
    if exe is None and not path.exists():
        raise RuntimeError("sox is not installed (apt install sox)")
    if exe is not None:
        subprocess.run([exe, "-n", "-r", "16000", "-c", "1", "-b", "16", str(path), "synth",
                        f"{n / 16000 + 0.1:.2f}", "pinknoise"], check=True, capture_output=True, timeout=60)
    with wave.open(str(path), "rb") as w:
        a = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    return np.resize(a, n)


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """speech + noise scaled to `snr_db` below the speech's power."""
    ps, pn = float(np.mean(speech ** 2)), float(np.mean(noise ** 2)) or 1e-12
    return (speech + noise * np.sqrt(ps / (pn * 10 ** (snr_db / 10)))).astype(np.float32)


def clips(ctx: Ctx, d: Path) -> list[dict]:
    names = list(ctx.glossary.names) if ctx.glossary is not None else []
    vendor, customer = (names + ["Northwind", "Contoso"])[:2] if len(names) < 2 else names[:2]
    conds = [CONDITIONS[i] for i in QUICK_CONDITIONS] if ctx.opt.quick else CONDITIONS
    plan = [(c, "dev", REQUESTS) for c in conds]
    if not ctx.opt.quick:
        plan += [(c, "held_out_phrases", REQUESTS_HELD_OUT) for c in CONDITIONS[:3]]
        plan += [(c, "held_out_voices", REQUESTS + REQUESTS_HELD_OUT) for c in CONDITIONS_HELD_OUT]
    out = []
    for pi, ((label, voice, wpm, snr), split, requests) in enumerate(plan):
        for ri, (text, terms) in enumerate(requests):
            t = text.format(vendor=vendor, customer=customer)
            a = _espeak(t, voice, wpm, d / f"h{pi}_{ri}.wav")
            a = np.concatenate([np.zeros(3200, np.float32), a, np.zeros(4800, np.float32)])
            if snr is not None:
                a = mix(a, _pink(len(a), d / f"n{pi}_{ri}.wav"), snr)
            out.append({"cond": label, "split": split, "default_set": split == "dev" and snr is None, "text": t,
                        "audio": a, "terms": [x.format(vendor=vendor, customer=customer) for x in terms]})
    return out


async def _transcribe_all(tr, items: list[dict], prompt: str | None, key: str) -> None:
    for it in items:
        t = now_ms()
        res = await tr.transcribe(it["audio"], initial_prompt=prompt)
        it[key] = res.text
        it[key + "_ms"] = now_ms() - t
        it[key + "_confident"] = res.confident


def _score(items: list[dict], key: str) -> dict:
    def block(sel):
        if not sel or key not in sel[0]:
            return None
        return {"wer": rnd(statistics.mean(wer(i["text"], i[key]) for i in sel), 3),
                "term_recall": rnd(term_recall([(i[key], i["terms"]) for i in sel]), 3),
                **({"median_ms": rnd(statistics.median(i[key + "_ms"] for i in sel), 0)}
                   if key + "_ms" in sel[0] else {})}
    by = {}
    for c in dict.fromkeys(i["cond"] for i in items if i["split"] == "dev"):
        by[c] = block([i for i in items if i["cond"] == c and i["split"] == "dev"])
    dev = [i for i in items if i["split"] == "dev"]
    return {"all": block(dev), "default_set": block([i for i in dev if i["default_set"]]), "by_condition": by,
            **{s: block([i for i in items if i["split"] == s]) for s in ("held_out_phrases", "held_out_voices")}}


async def _cleanup(ctx: Ctx, items: list[dict]) -> None:
    from ..speech.cleanup import clean_transcript
    from ..speech.cleanup_policy import answer_as_heard, mender_for
    from ..speech.transcriber import Transcript

    client = ctx.mgr.client("light")
    mender = mender_for(ctx.glossary)
    for it in items:
        it["mended"] = mender.mend(it["glossary"])[0]
        t = now_ms()
        res = await clean_transcript(it["mended"], client, ctx.glossary, timeout_s=10.0)
        it["cleaned"], it["cleaned_ms"] = res.text, now_ms() - t
        heard = Transcript(it["mended"], confident=it["glossary_confident"])
        as_heard = answer_as_heard(heard, ctx.glossary.near_misses(it["mended"]))
        it["answered"] = it["mended"] if as_heard else res.text


async def _other_transcriber(ctx: Ctx, speech: dict, items: list[dict], prompt: str, key: str) -> None:
    from ..speech.transcriber import Transcriber

    t2 = Transcriber(ctx.cfg.model_copy(update={"speech": ctx.cfg.speech.model_copy(update=speech)}))
    try:
        t2.load()
        await _transcribe_all(t2, items, prompt, key)
    finally:
        t2.close()


async def bench_hearing(ctx: Ctx) -> dict:
    from ..speech.cleanup_policy import mender_for

    tr = await ctx.transcriber_ready()
    d = ctx.opt.out_dir / "wav" / "hearing"
    d.mkdir(parents=True, exist_ok=True)
    items = clips(ctx, d)
    prompt = ctx.glossary.whisper_prompt(ctx.glossary.for_whisper(None))
    await _transcribe_all(tr, items, None, "raw")
    await _transcribe_all(tr, items, prompt, "glossary")
    await _cleanup(ctx, items)
    out = {"clips": len(items), "whisper": "tiny.en (bundled)" if getattr(tr, "model_name", "") in ("", "model") else tr.model_name,
           "window": ctx.cfg.speech.whisper_window, "prompt": prompt,
           "stages": {k: _score(items, k) for k in ("raw", "glossary", "mended", "cleaned", "answered")}}
    other = "full" if ctx.cfg.speech.whisper_window == "short" else "short"
    await _other_transcriber(ctx, {"whisper_window": other}, items, prompt, "other_window")
    mender = mender_for(ctx.glossary)
    for it in items:
        it["other_window"] = mender.mend(it["other_window"])[0]
    out["other_window"] = {"window": other, **_score(items, "other_window")}
    alt = os.environ.get("BESTBOX_BENCH_WHISPER_ALT")
    if alt:
        await _other_transcriber(ctx, {"whisper_model": alt}, items, prompt, "alt")
        out["alt"] = {"model": alt, **_score(items, "alt")}
    out["samples"] = [{k: v for k, v in i.items() if k != "audio"} for i in items]
    return out


def hearing_lines(res: dict, add) -> None:
    s = res.get("hearing")
    if not s:
        return
    add("")
    add(f"Hearing ({s['clips']} clips; Whisper {s['whisper']}, {s.get('window', 'full')} window): WER / key-term "
        "recall, all | default voice set | held-out phrases | held-out voices")
    rows = dict(s["stages"])
    if s.get("other_window"):
        rows[f"{s['other_window']['window']} window"] = s["other_window"]  # with the prompt, mended
    if s.get("alt"):
        rows[f"alt {Path(s['alt']['model']).name}"] = s["alt"]
    for k, v in rows.items():
        a, dft = v.get("all") or {}, v.get("default_set") or {}
        hp, hv = v.get("held_out_phrases") or {}, v.get("held_out_voices") or {}
        add(f"  {k:14s} WER {a.get('wer')} | {dft.get('wer')} | {hp.get('wer')} | {hv.get('wer')}; recall "
            f"{a.get('term_recall')} | {dft.get('term_recall')} | {hp.get('term_recall')} | {hv.get('term_recall')}"
            + (f"; median {a['median_ms']} ms" if a.get("median_ms") is not None else ""))
