"""Is the fast path's confidence the probability of being right? Measures, the fit, the threshold.

- `ece`: expected calibration error — equal-width confidence bins, the share-weighted mean of
  |accuracy − mean confidence| per bin;
- `reliability`: those bins, for the plot;
- `fit_temperature`: the softmax temperature with the lowest log-loss on held-out predictions;
- `choose_threshold`: the hand-off threshold — the lowest confidence at which the decided requests
  are right at least `target` of the time (so the fast path decides as many as it safely can);
- `decided_stats`: share decided, accuracy on those, confidently-wrong share, at a threshold;
- `load_calibration`: the shipped `data/calibration.json` written by `python -m bestbox.routing.calibrate`.
Pure Python (lists of floats), so tests and the bench need nothing else.
"""
from __future__ import annotations

import json
import math
from importlib import resources

TARGET_ACCURACY = 0.98     # issue 13: accuracy on the requests the fast path decides
FALLBACK_THRESHOLD = 0.55  # the old hand-set value, used only when no calibration fits this model
CALIBRATION_FILE = "calibration.json"


def softmax(z: list[float], temperature: float = 1.0) -> list[float]:
    top = max(z)
    e = [math.exp((x - top) / temperature) for x in z]
    s = sum(e)
    return [x / s for x in e]


def reliability(conf: list[float], correct: list[bool], bins: int = 10) -> list[dict]:
    """Per equal-width bin of confidence: n, mean confidence, accuracy (bins without rows skipped)."""
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        rows = [(c, k) for c, k in zip(conf, correct) if (lo < c <= hi) or (b == 0 and c == 0.0)]
        if rows:
            out.append({"lo": lo, "hi": hi, "n": len(rows),
                        "confidence": sum(c for c, _ in rows) / len(rows),
                        "accuracy": sum(k for _, k in rows) / len(rows)})
    return out


def ece(conf: list[float], correct: list[bool], bins: int = 10) -> float:
    n = len(conf)
    if not n:
        return 0.0
    return sum(b["n"] / n * abs(b["accuracy"] - b["confidence"]) for b in reliability(conf, correct, bins))


def decided_stats(conf: list[float], correct: list[bool], threshold: float) -> dict:
    """share decided (confidence ≥ threshold), accuracy on those, confidently wrong (share of all)."""
    n = len(conf)
    dec = [k for c, k in zip(conf, correct) if c >= threshold]
    return {"threshold": round(threshold, 4), "n": n, "decided": len(dec),
            "share_decided": round(len(dec) / n, 4) if n else None,
            "accuracy_on_decided": round(sum(dec) / len(dec), 4) if dec else None,
            "confidently_wrong": round((len(dec) - sum(dec)) / n, 4) if n else None}


def choose_threshold(conf: list[float], correct: list[bool], target: float = TARGET_ACCURACY,
                     floor: float = 0.5) -> float:
    """The lowest threshold (a confidence seen in the data, ≥ floor) whose decided requests — all
    those at or above it — are right ≥ target. No such threshold: 1.0 (decide only a certainty)."""
    pairs = sorted(zip(conf, correct), key=lambda p: -p[0])
    best, right = 1.0, 0
    for i, (c, k) in enumerate(pairs):
        right += k
        if c < floor:
            break
        last_of_tie = i + 1 == len(pairs) or pairs[i + 1][0] < c
        if last_of_tie and right / (i + 1) >= target:
            best = c
    return best


def log_loss(logits: list[list[float]], labels: list[int], temperature: float) -> float:
    return -sum(math.log(max(softmax(z, temperature)[y], 1e-12)) for z, y in zip(logits, labels)) / len(labels)


def fit_temperature(logits: list[list[float]], labels: list[int], lo: float = 0.05, hi: float = 20.0) -> float:
    """Temperature scaling (Guo et al. 2017): the T minimising held-out log-loss, by golden-section
    search on log T (the loss is unimodal in T)."""
    a, b = math.log(lo), math.log(hi)
    g = (math.sqrt(5) - 1) / 2
    f = lambda x: log_loss(logits, labels, math.exp(x))  # noqa: E731
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(40):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return math.exp((a + b) / 2)


def load_calibration() -> dict | None:
    """The shipped calibration (None when missing or unreadable: the fast path then uses T=1 and
    the router the fallback threshold)."""
    try:
        text = resources.files("bestbox.routing").joinpath("data", CALIBRATION_FILE).read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, ValueError):
        return None


def auto_threshold(fast_path=None) -> float:
    """The calibrated hand-off threshold for this fast path's model version (its CV models were
    trained on subsets of the pool, so it holds for any of them); the fallback when not calibrated."""
    from .fast_path import MODEL_VERSION

    cal = load_calibration()
    if cal and cal.get("model_version") == MODEL_VERSION:
        return float(cal["threshold"])
    return FALLBACK_THRESHOLD


def route_summary(expected: list[str], decisions: list) -> dict:
    """The whole router on labelled requests: what the fast path decided on its own (confident or a
    correction) and how right that was, what the light model decided, and the hybrid overall.
    `upper_bound_perfect_light`: the hybrid's accuracy if the light model were always right."""
    n = len(expected)
    fast = [(e, d) for e, d in zip(expected, decisions) if d.decided_by in ("fast", "correction")]
    fast_right = sum(e == d.agent for e, d in fast)
    by: dict[str, dict] = {}
    for e, d in zip(expected, decisions):
        s = by.setdefault(d.decided_by, {"n": 0, "right": 0})
        s["n"] += 1
        s["right"] += e == d.agent
    for s in by.values():
        s["accuracy"] = round(s["right"] / s["n"], 4)
    r = lambda x: round(x, 4) if n else None  # noqa: E731
    return {"n": n, "share_decided_fast": r(len(fast) / n) if n else None,
            "fast_accuracy_on_decided": round(fast_right / len(fast), 4) if fast else None,
            "confidently_wrong": r((len(fast) - fast_right) / n) if n else None,
            "hybrid_accuracy": r(sum(e == d.agent for e, d in zip(expected, decisions)) / n) if n else None,
            "upper_bound_perfect_light": r((fast_right + n - len(fast)) / n) if n else None,
            "by_decided_by": by}
