"""`python -m bestbox.routing.calibrate`: fit the fast path's calibration offline and ship it.

1. k-fold cross-validation over the training pool (`fast_path.DATA_FILES`): every example is
   scored by a model that never saw it;
2. temperature scaling fitted on those out-of-fold scores (`calibration.fit_temperature`);
3. the hand-off threshold chosen from the out-of-fold curve: the lowest confidence whose decided
   requests are right ≥ 98 % (`calibration.choose_threshold`);
4. written to `routing/data/calibration.json` with the model version (a fast path of another
   version ignores it) and the model key (version + training examples: a test fails when the
   shipped examples changed and nobody re-ran this).
The spoken held-out set (`data/spoken_heldout.jsonl`) is only measured, never fitted on: its numbers
go into the file as a record of what the fitted calibration did on requests nobody trained on.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from importlib import resources
from pathlib import Path

from . import calibration as C
from .decision import AGENTS
from .fast_path import MODEL_VERSION, FastPath, load_examples, norm_key

FOLDS = 5
HELDOUT_FILE = "spoken_heldout.jsonl"


def heldout_rows() -> list[dict]:
    return load_examples(Path(str(resources.files("bestbox.routing").joinpath("data", HELDOUT_FILE))))


def fold_of(text: str, k: int = FOLDS) -> int:
    return int(hashlib.sha1(norm_key(text).encode()).hexdigest(), 16) % k


def cv_logits(rows: list[dict], k: int = FOLDS) -> list[list[float]]:
    """Out-of-fold raw scores for every row (each from a model trained on the other folds)."""
    out: list = [None] * len(rows)
    folds = [fold_of(r["text"], k) for r in rows]
    for f in range(k):
        fp = FastPath([r for r, g in zip(rows, folds) if g != f], temperature=1.0, cache=False)
        for i, (r, g) in enumerate(zip(rows, folds)):
            if g == f:
                out[i] = fp.logits(r["text"])
    return out


def measure(logits: list[list[float]], rows: list[dict], temperature: float, threshold: float) -> dict:
    """ECE, reliability bins and the decided-share numbers of calibrated predictions."""
    labels = [AGENTS.index(r["agent"]) for r in rows]
    conf, correct = [], []
    for z, y in zip(logits, labels):
        p = C.softmax(z, temperature)
        top = max(range(len(p)), key=p.__getitem__)
        conf.append(p[top])
        correct.append(top == y)
    return {"n": len(rows), "accuracy": round(sum(correct) / len(rows), 4),
            "ece": round(C.ece(conf, correct), 4), "log_loss": round(C.log_loss(logits, labels, temperature), 4),
            "at_threshold": C.decided_stats(conf, correct, threshold),
            "reliability": [{k: round(v, 4) for k, v in b.items()} for b in C.reliability(conf, correct)],
            "_conf": conf, "_correct": correct}


def fit(k: int = FOLDS, log=print) -> dict:
    rows = load_examples()
    log(f"{k}-fold CV over {len(rows)} training examples ...")
    oof = cv_logits(rows, k)
    labels = [AGENTS.index(r["agent"]) for r in rows]
    T = C.fit_temperature(oof, labels)
    cv = measure(oof, rows, T, 0.0)
    threshold = C.choose_threshold(cv["_conf"], cv["_correct"])
    cv["at_threshold"] = C.decided_stats(cv["_conf"], cv["_correct"], threshold)
    cv["uncalibrated_ece"] = round(measure(oof, rows, 1.0, threshold)["ece"], 4)
    full = FastPath(rows, temperature=T)
    held = heldout_rows()
    ho = measure([full.logits(r["text"]) for r in held], held, T, threshold)
    return {"model_version": MODEL_VERSION, "model_key": full.key, "temperature": round(T, 4), "threshold": round(threshold, 4),
            "target_accuracy": C.TARGET_ACCURACY, "folds": k, "training_examples": len(rows),
            "cv": {k2: v for k2, v in cv.items() if not k2.startswith("_")},
            "heldout": {"file": HELDOUT_FILE, **{k2: v for k2, v in ho.items() if not k2.startswith("_")}}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bestbox.routing.calibrate", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "data" / C.CALIBRATION_FILE))
    ap.add_argument("--folds", type=int, default=FOLDS)
    args = ap.parse_args(argv)
    res = fit(args.folds)
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    cv, ho = res["cv"], res["heldout"]
    print(f"temperature {res['temperature']}, threshold {res['threshold']} → {args.out}")
    for name, m in (("CV", cv), ("held-out", ho)):
        t = m["at_threshold"]
        print(f"{name:9s} n={m['n']} acc {m['accuracy']:.3f} ECE {m['ece']:.3f}  decided {t['share_decided']:.2f} "
              f"acc on decided {t['accuracy_on_decided']} confidently wrong {t['confidently_wrong']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
