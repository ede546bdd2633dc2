"""PNG plots of a bench run (matplotlib, Agg backend: no display needed).

- bench-typed.png / bench-voice.png: one horizontal bar per configuration, stacked by stage
  (medians over the run), the time to the first answer token marked on each bar;
- bench-router.png: router decision latency per method (median bar, p90 and max marks; log scale,
  since the fast path and the LLM methods are orders of magnitude apart), generated tokens noted.
"""
from __future__ import annotations

from pathlib import Path

from .router import ROUTER_LABELS, ROUTER_METHODS
from .turns import CONFIG_LABELS, CONFIGS

# One colour per stage, the same in both turn plots.
STAGE_COLORS = {
    "silence window": "#cfd8dc",
    "ASR (after close)": "#8e7cc3",
    "cleanup (before answer)": "#c27ba0",
    "route": "#e69138",
    "tool choice (LLM)": "#f1c232",
    "tool run": "#6aa84f",
    "answer → first token": "#3d85c6",
    "answer → last token": "#9fc5e8",
    "app & glue": "#999999",
}
CONFIG_SHORT = {"single": "single\n(route + answer on heavy)", "dual": "dual\n(JSON route on light)",
                "bestbox": "BestBox\n(as shipped)"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titleweight": "bold", "axes.titlesize": 12})
    return plt


def _subtitle(res: dict) -> str:
    m = res.get("meta", {})
    mach = m.get("machine", {})
    mod = m.get("models", {})
    gpu = str(mach.get("gpu") or "").split(",")[0]
    where = f"{gpu}, {mach.get('cores')} CPU cores" if gpu else f"{mach.get('cores')} CPU cores, no GPU"
    kind = "demo-model numbers" if m.get("demo_model", not gpu) else \
        ("real-sized random-weight models" if "random" in f"{mod.get('light')}{mod.get('heavy')}" else "real models")
    return (f"{m.get('date', '')[:10]} · {where} · light {mod.get('light')}, "
            f"heavy {mod.get('heavy')}, Whisper {mod.get('whisper')} · {kind}")


def _turn_plot(res: dict, kind: str, path: Path) -> Path | None:
    t = ((res.get("turns") or {}).get(kind)) or {}
    configs = [c for c in CONFIGS if (t.get(c) or {}).get("n") and (t[c].get("breakdown") or {}).get("segments_ms")]
    if not configs:
        return None
    plt = _plt()
    stages: list[str] = []
    for c in configs:
        for s in t[c]["breakdown"]["segments_ms"]:
            if s not in stages:
                stages.append(s)
    stages.sort(key=lambda s: list(STAGE_COLORS).index(s) if s in STAGE_COLORS else 99)
    fig, ax = plt.subplots(figsize=(11, 1.25 * len(configs) + 2.3))
    ys = list(range(len(configs)))[::-1]
    widest = 0.0
    ends: dict = {}
    for y, c in zip(ys, configs):
        seg = t[c]["breakdown"]["segments_ms"]
        left = 0.0
        for s in stages:
            w = (seg.get(s) or 0.0) / 1000.0
            if w <= 0:
                continue
            ax.barh(y, w, left=left, height=0.58, color=STAGE_COLORS.get(s, "#777777"), edgecolor="white",
                    linewidth=0.8, label=s)
            left += w
        ends[c] = left
        widest = max(widest, left)
    for y, c in zip(ys, configs):
        ft = t[c]["breakdown"].get("first_token_ms")
        lt = t[c]["breakdown"].get("last_token_ms")
        if ft is not None:
            ax.plot([ft / 1000] * 2, [y - 0.36, y + 0.36], color="#cc0000", linewidth=2, zorder=5)
            ax.annotate(f"first token {ft / 1000:.2f} s", (ft / 1000, y + 0.36), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=8.5, color="#cc0000")
        if lt is not None:
            ax.annotate(f"last token {lt / 1000:.2f} s", (ends.get(c, 0.0), y), xytext=(6, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=9.5, fontweight="bold")
    ax.set_yticks(ys)
    def _route(c: str) -> str:
        v = t[c]["breakdown"]["segments_ms"].get("route")
        return "" if v is None else f"\nroute {_fmt_ms(v)}"

    ax.set_yticklabels([CONFIG_SHORT[c] + _route(c) for c in configs])
    ax.set_xlim(0, widest * 1.18 if widest else 1)
    ax.set_ylim(-0.6, len(configs) - 0.3)
    nq = max(t[c]["breakdown"].get("questions", 0) for c in configs)
    ax.set_xlabel(f"seconds — each question's median turn, averaged over the {nq} question{'s' if nq != 1 else ''}")
    if kind == "typed":
        ax.set_title("Whole typed turn: input (Enter) → last answer token", loc="left")
    else:
        ax.set_title("Whole voice turn: last voiced sample (silence window included) → last answer token", loc="left")
    fig.text(0.01, 0.01, _subtitle(res) + f" · answers ≤ {(res.get('turns') or {}).get('answer_tokens_cap')} tokens",
             fontsize=8, color="#555555")
    handles, labels = ax.get_legend_handles_labels()
    seen: dict = {}
    for h, lab in zip(handles, labels):
        seen.setdefault(lab, h)
    seen = {s: seen[s] for s in stages if s in seen}
    ax.legend(seen.values(), seen.keys(), ncol=min(5, len(seen)), loc="upper center", bbox_to_anchor=(0.5, -0.2),
              frameon=False, fontsize=9)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def _router_plot(res: dict, path: Path) -> Path | None:
    r = (res.get("router") or {}).get("methods") or {}
    methods = [m for m in ROUTER_METHODS if (r.get(m) or {}).get("ms", {}).get("n")]
    if not methods:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 0.62 * len(methods) + 2.0))
    ys = list(range(len(methods)))[::-1]
    colors = {"fast_path": "#6aa84f", "bestbox_hybrid": "#38761d", "light_grammar": "#3d85c6",
              "heavy_grammar": "#9fc5e8", "light_json": "#e69138", "heavy_json": "#cc0000"}
    xmax = 0.0
    for y, m in zip(ys, methods):
        s = r[m]["ms"]
        ax.barh(y, s["median"], height=0.55, color=colors.get(m, "#777"), zorder=3)
        ax.plot([s["p90"]], [y], marker="|", markersize=14, color="#333333", zorder=4)
        ax.plot([s["max"]], [y], marker="x", markersize=6, color="#333333", zorder=4)
        xmax = max(xmax, s["max"])
        gen = (r[m].get("generated_tokens") or {})
        tok = f" · {gen['median']:.0f} tokens" if gen.get("n") and gen.get("median") is not None else ""
        ax.annotate(f"{_fmt_ms(s['median'])}{tok}", (s["max"], y), xytext=(8, 0), textcoords="offset points",
                    va="center", fontsize=9)
    ax.set_xscale("log")
    ax.set_xlim(min(r[m]["ms"]["median"] for m in methods) / 2, xmax * 12)
    ax.set_yticks(ys)
    ax.set_yticklabels([ROUTER_LABELS[m] for m in methods])
    ax.set_xlabel("milliseconds per decision, log scale (bar: median, |: p90, x: max)")
    ax.set_title("Router decision latency per method", loc="left")
    ax.grid(axis="x", which="both", color="#eeeeee", linewidth=0.7, zorder=0)
    fig.text(0.01, 0.01, _subtitle(res), fontsize=8, color="#555555")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def _fmt_ms(v: float) -> str:
    if v < 1:
        return f"{v:.2f} ms"
    if v < 1000:
        return f"{v:.0f} ms"
    return f"{v / 1000:.2f} s"


def _calibration_plot(res: dict, out_dir: Path) -> Path | None:
    from .calibration import plot

    return plot(res, out_dir)


def make_plots(res: dict, out_dir: Path) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    made = [
        _turn_plot(res, "typed", out_dir / "bench-typed.png"),
        _turn_plot(res, "voice", out_dir / "bench-voice.png"),
        _router_plot(res, out_dir / "bench-router.png"),
        _calibration_plot(res, out_dir),
    ]
    return [p for p in made if p is not None]


__all__ = ["make_plots", "CONFIG_LABELS"]
