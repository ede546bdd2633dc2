"""`bestbox bench --only calibration`: does the fast path know when it does not know?

On requests nobody trained on — out-of-fold predictions over the training pool (k-fold CV) and the
spoken held-out set — it reports accuracy, expected calibration error (10 bins) before and after
temperature scaling, the reliability curve (plot: bench-calibration.png), the threshold curve and
the shipped threshold's share decided / accuracy on decided / confidently wrong; then the whole
router (hybrid) on the held-out set, with the light model when a light server is there; then what a
user's correction does: each held-out request the fast path got wrong is corrected on its own, and
we count whether it is fixed and how many other requests flip to right or to wrong.
The fast-path part needs no server (`run_offline`).
"""
from __future__ import annotations

import time
from pathlib import Path

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)


def _fast_part(log) -> tuple[dict, object, list]:
    from ..routing import calibrate as K
    from ..routing import calibration as C
    from ..routing.decision import AGENTS
    from ..routing.fast_path import FastPath, load_examples

    cal = C.load_calibration() or {}
    rows = load_examples()
    log(f"  {K.FOLDS}-fold CV over {len(rows)} training examples ...")
    oof = K.cv_logits(rows)
    fp = FastPath(rows)
    shipped_ok = cal.get("model_key") == fp.key
    T = fp.temperature
    thr = C.auto_threshold(fp)
    held = K.heldout_rows()
    h_logits = [fp.logits(r["text"]) for r in held]
    out: dict = {"model_key": fp.key[:12], "calibration_matches_model": shipped_ok, "temperature": T,
                 "threshold": thr, "threshold_rule": f"lowest CV threshold with accuracy on decided >= "
                 f"{C.TARGET_ACCURACY:.0%}", "sets": {}}
    for name, lg, rs in (("cv", oof, rows), ("heldout", h_logits, held)):
        after = K.measure(lg, rs, T, thr)
        before = K.measure(lg, rs, 1.0, thr)
        out["sets"][name] = {
            "n": after["n"], "accuracy": after["accuracy"], "ece_uncalibrated": before["ece"], "ece": after["ece"],
            "log_loss": after["log_loss"], "at_threshold": after["at_threshold"], "reliability": after["reliability"],
            "curve": [C.decided_stats(after["_conf"], after["_correct"], t) for t in THRESHOLDS]}
    labels = [AGENTS.index(r["agent"]) for r in held]
    wrong = [i for i, (z, y) in enumerate(zip(h_logits, labels)) if max(range(len(z)), key=z.__getitem__) != y]
    return out, fp, wrong


async def _router_part(fp, held: list[dict], light, routing_cfg=None) -> dict:
    from ..config import RoutingConfig
    from ..routing.calibration import route_summary
    from ..routing.router import Router

    cfg = RoutingConfig(mode="hybrid", llm_timeout_ms=getattr(routing_cfg, "llm_timeout_ms", 1500))
    router = Router(cfg, None, fp)
    decisions = [await router.route(r["text"], light, mode="hybrid") for r in held]
    s = route_summary([r["agent"] for r in held], decisions)
    s["light_model"] = "light server" if light is not None else \
        "none (no server): the fast path's own guess decides the rest (decided_by=fallback)"
    return s


def _corrections_part(fp, held: list[dict], wrong: list[int]) -> dict:
    """Correct each wrong request alone; count: fixed at once, others flipped to right / to wrong."""
    base = [fp.classify(r["text"]).agent for r in held]
    rows = []
    for i in wrong:
        fp.set_corrections([(held[i]["text"], held[i]["agent"])])
        now = [fp.classify(r["text"]).agent for r in held]
        to_right = sum(now[j] == held[j]["agent"] != base[j] for j in range(len(held)) if j != i)
        to_wrong = sum(base[j] == held[j]["agent"] != now[j] for j in range(len(held)) if j != i)
        rows.append({"text": held[i]["text"], "expected": held[i]["agent"], "was": base[i],
                     "fixed": now[i] == held[i]["agent"], "others_to_right": to_right, "others_to_wrong": to_wrong})
    fp.clear_corrections()
    return {"wrong": len(wrong), "fixed_at_once": sum(r["fixed"] for r in rows),
            "others_to_right": sum(r["others_to_right"] for r in rows),
            "others_to_wrong": sum(r["others_to_wrong"] for r in rows), "each": rows}


async def measure(light=None, log=lambda m: None, routing_cfg=None) -> dict:
    from ..routing import calibrate as K

    t0 = time.perf_counter()
    out, fp, wrong = _fast_part(log)
    held = K.heldout_rows()
    out["router"] = await _router_part(fp, held, light, routing_cfg)
    out["corrections"] = _corrections_part(fp, held, wrong)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


async def bench_calibration(ctx) -> dict:
    light = ctx.mgr.client("light") if getattr(ctx, "mgr", None) is not None else None
    return await measure(light, ctx.opt.log, getattr(ctx.cfg, "routing", None))


async def run_offline(opt) -> dict:
    """The section alone, without servers (`bestbox bench --only calibration`)."""
    import os

    from .runner import _machine

    res: dict = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": _machine(),
                          "models": {"light": "none (no server started)", "heavy": "none", "whisper": "-"},
                          "load_avg_start": [round(x, 2) for x in os.getloadavg()],
                          "note": "calibration section only: the fast path in-process, no servers"}, "errors": {}}
    opt.out_dir.mkdir(parents=True, exist_ok=True)
    res["calibration"] = await measure(None, opt.log)
    res["meta"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    return res


def plot(res: dict, out_dir: Path) -> Path | None:
    """bench-calibration.png: reliability (accuracy per confidence bin) for CV and the held-out set,
    and share decided / accuracy on decided against the threshold."""
    cal = res.get("calibration")
    if not cal:
        return None
    from .plots import _plt

    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.4))
    a.plot([0, 1], [0, 1], color="#999999", lw=1, ls="--", label="perfect calibration")
    for name, color in (("cv", "#3d85c6"), ("heldout", "#e69138")):
        s = cal["sets"][name]
        rel = s["reliability"]
        a.plot([r["confidence"] for r in rel], [r["accuracy"] for r in rel], "o-", color=color,
               label=f"{'CV (training pool)' if name == 'cv' else 'spoken held-out'}: ECE {s['ece']:.3f} "
                     f"(uncalibrated {s['ece_uncalibrated']:.3f})")
        curve = s["curve"]
        b.plot([c["threshold"] for c in curve], [c["share_decided"] for c in curve], "s--", color=color,
               label=f"{name}: share decided")
        b.plot([c["threshold"] for c in curve], [c["accuracy_on_decided"] or 0 for c in curve], "o-",
               color=color, label=f"{name}: accuracy on decided")
    a.set(xlabel="fast-path confidence (calibrated)", ylabel="accuracy", xlim=(0, 1.02), ylim=(0, 1.02),
          title="Reliability (10 bins)")
    a.legend(fontsize=8, loc="lower right")
    b.axvline(cal["threshold"], color="#6aa84f", lw=1.5, label=f"threshold {cal['threshold']:.3f} (auto)")
    b.axhline(0.98, color="#cc0000", lw=0.8, ls=":", label="98 % target")
    b.set(xlabel="hand-off threshold", ylabel="share / accuracy", ylim=(0.4, 1.02), title="Threshold curve")
    b.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    path = out_dir / "bench-calibration.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def checks(cal: dict) -> list[tuple[str, object, str, bool]]:
    """Issue 13's targets, on the spoken held-out set at the shipped threshold."""
    h = cal["sets"]["heldout"]["at_threshold"]
    return [("fast path: accuracy on decided (held-out)", h["accuracy_on_decided"], ">= 0.98",
             (h["accuracy_on_decided"] or 0) >= 0.98),
            ("fast path: confidently wrong (held-out)", h["confidently_wrong"], "<= 0.01", h["confidently_wrong"] <= 0.01),
            ("fast path: share decided (held-out)", h["share_decided"], ">= 0.80", h["share_decided"] >= 0.80)]


def format_section(cal: dict) -> list[str]:
    L = ["", f"Calibration (fast path; temperature {cal['temperature']:.3f}, threshold {cal['threshold']:.3f} = "
         f"{cal['threshold_rule']}; calibration matches model: {cal['calibration_matches_model']})",
         "  set        n    accuracy  ECE before → after   share decided  acc on decided  confidently wrong"]
    for name, s in cal["sets"].items():
        t = s["at_threshold"]
        L.append(f"  {name:8s} {s['n']:4d}   {s['accuracy']:.3f}     {s['ece_uncalibrated']:.3f} → {s['ece']:.3f}"
                 f"        {t['share_decided']:.2f}           {t['accuracy_on_decided']}          {t['confidently_wrong']}")
    r = cal["router"]
    light = r["by_decided_by"].get("llm")
    L.append(f"  router (hybrid) on held-out: fast path decides {r['share_decided_fast']:.2f}, right "
             f"{r['fast_accuracy_on_decided']}; confidently wrong {r['confidently_wrong']}; hybrid accuracy "
             f"{r['hybrid_accuracy']}; with a perfect light model {r['upper_bound_perfect_light']}")
    L.append(f"    light model: {r['light_model']}"
             + (f"; its accuracy on the rest {light['accuracy']} (n={light['n']})" if light else ""))
    c = cal["corrections"]
    L.append(f"  corrections: {c['wrong']} held-out requests wrong; each corrected alone → fixed at once "
             f"{c['fixed_at_once']}/{c['wrong']}, other requests flipped to right {c['others_to_right']}, "
             f"to wrong {c['others_to_wrong']}")
    return L
