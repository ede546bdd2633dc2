"""Folding what the monitor read (/metrics Prometheus text, /slots and /props JSON, process stats)
into the supervisor's stats. Pure functions: no I/O."""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from .state import ServerStats

if TYPE_CHECKING:
    from .monitor import StatsSample

_LINE = re.compile(r"^llamacpp:([a-z_]+)(?:\{[^}]*\})?\s+([-+0-9.eEinfa]+)\s*$")


def parse_prometheus(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m:
            try:
                out[m.group(1)] = float(m.group(2))
            except ValueError:
                pass
    return out


def apply_metrics(st: ServerStats, text: str) -> None:
    """Generation speed from the change of predicted tokens / predicted seconds between polls
    (falls back to the server's own running average); in-flight requests."""
    m = parse_prometheus(text)
    tok, sec = m.get("tokens_predicted_total"), m.get("tokens_predicted_seconds_total")
    if tok is not None and sec is not None:
        if st.pred_tokens is not None and st.pred_seconds is not None:
            dt, ds = tok - st.pred_tokens, sec - st.pred_seconds
            if dt >= 2 and ds >= 0.005:  # a 1-token probe says nothing about speed
                st.tokens_per_s = round(dt / ds, 1)
        elif tok >= 8 and sec >= 0.01 and st.tokens_per_s is None:
            st.tokens_per_s = round(tok / sec, 1)
        st.pred_tokens, st.pred_seconds = tok, sec
    if "requests_processing" in m:
        st.requests_processing = int(m["requests_processing"])


def apply_slots(st: ServerStats, slots) -> None:
    """Busy slots now; a request counted each time a slot shows a new task while we watch.

    Every slot's task id is remembered from the first look, idle ones (-1 or absent) included: a
    slot that had never worked and then answers counts too (a parallel-2 light server often answers
    on the slot the readiness probe did not use). Two requests on one slot between two looks count
    as one: the number is a lower bound."""
    if not isinstance(slots, list):
        return
    st.total_slots = len(slots) or st.total_slots
    busy = 0
    for s in slots:
        if not isinstance(s, dict):
            continue
        if s.get("is_processing"):
            busy += 1
        sid, task = s.get("id"), s.get("id_task")
        task = -1 if task is None else task  # llama-server leaves it out for a slot that never worked
        if not isinstance(task, int):
            continue
        prev = st.slot_busy.get(sid)
        if prev is not None and task != prev and task >= 0:
            st.requests_total = (st.requests_total or 0) + 1
        st.slot_busy[sid] = task
    if st.requests_total is None and st.slot_busy:
        st.requests_total = 0
    st.busy_slots = busy


def apply_props(st: ServerStats, props) -> None:
    """Model name, context per slot and slot count from /props."""
    try:
        dgs = props.get("default_generation_settings") or {}
        alias = props.get("model_alias") or props.get("model_path") or ""
        st.model_name = Path(alias).name if "/" in alias or alias.endswith(".gguf") else alias
        st.ctx_per_slot = dgs.get("n_ctx") or st.ctx_per_slot
        st.total_slots = props.get("total_slots") or st.total_slots
    except (ValueError, AttributeError):
        pass


def apply_sample(st: ServerStats, sample: StatsSample) -> None:
    """Fold one round of the monitor's collection into the stats (what was not read stays)."""
    if sample.metrics is not None:
        apply_metrics(st, sample.metrics)
    if sample.slots is not None:
        apply_slots(st, sample.slots)
    if sample.props_read:
        apply_props(st, sample.props)
    if sample.process is not None:
        st.rss_bytes, cpu = sample.process
        st.cpu_percent = round(cpu, 1) if cpu is not None else None
    if sample.vram_read:
        st.vram_bytes = sample.vram_bytes
