"""How well routing works, and the switch to roll it back: accuracy from the user's corrections,
agreement with the heavy model (shadow checks), route time per mode, and the routing mode."""
from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from . import theme
from .side_page import scrolling_body
from .badges import DECIDERS

log = logging.getLogger(__name__)

MODES = [
    ("hybrid", "Hybrid — fast path when confident, else the light model"),
    ("llm", "LLM — always ask the light model"),
    ("fast", "Fast — local classifier only (no model call)"),
]


def _pct(v) -> str:
    return "—" if v is None else f"{float(v) * 100:.1f} %"


def _ms(v) -> str:
    return "—" if v is None else (f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms")


class _Section(QFrame):
    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("section")
        self.setStyleSheet(f"#section {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER};"
                           " border-radius: 10px; }")
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(14, 12, 14, 12)
        self.lay.setSpacing(6)
        t = QLabel(f"<b>{title}</b>", self)
        t.setWordWrap(True)
        self.lay.addWidget(t)


class RoutingReport(QWidget):
    mode_changed = Signal(str)

    def __init__(self, report_source=None, config=None, config_path=None, parent: QWidget | None = None,
                 corrections=None):
        """report_source: callable → dict (Assistant.routing_report). corrections: an object with
        export_corrections(path) -> int and reset_corrections() (the assistant adapter)."""
        super().__init__(parent)
        self.report_source = report_source
        self.corrections = corrections
        self.config = config
        self.config_path = config_path
        body, lay = scrolling_body(self, "routingBody")

        mode = _Section("Routing mode", body)
        self.mode = QComboBox(mode)
        self.mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.mode.setMinimumContentsLength(16)
        for key, label in MODES:
            self.mode.addItem(label, key)
        cur = getattr(getattr(config, "routing", None), "mode", "hybrid")
        self.mode.setCurrentIndex(max(0, [m for m, _ in MODES].index(cur) if cur in dict(MODES) else 0))
        self.mode.currentIndexChanged.connect(self._mode_picked)
        mode.lay.addWidget(self.mode)
        self.mode_note = QLabel("Switching the mode takes effect with the next question and is saved in the "
                                "config file: it is the roll-back if routing goes wrong.", mode)
        self.mode_note.setWordWrap(True)
        self.mode_note.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        mode.lay.addWidget(self.mode_note)
        lay.addWidget(mode)

        self.acc = _Section("Accuracy from your corrections", body)
        self.acc_value = QLabel("—", self.acc)
        self.acc_value.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.acc.lay.addWidget(self.acc_value)
        self.acc_detail = QLabel("", self.acc)
        self.acc_detail.setWordWrap(True)
        self.acc_detail.setStyleSheet(f"color: {theme.MUTED};")
        self.acc.lay.addWidget(self.acc_detail)
        self.by_decider = QGridLayout()
        self.by_decider.setHorizontalSpacing(14)
        self.acc.lay.addLayout(self.by_decider)
        lay.addWidget(self.acc)

        self.shadow = _Section("Agreement with the heavy model (shadow checks)", body)
        self.shadow_value = QLabel("—", self.shadow)
        self.shadow_value.setWordWrap(True)
        self.shadow.lay.addWidget(self.shadow_value)
        lay.addWidget(self.shadow)

        self.times = _Section("Route time per mode", body)
        self.times_grid = QGridLayout()
        self.times_grid.setHorizontalSpacing(14)
        self.times.lay.addLayout(self.times_grid)
        lay.addWidget(self.times)

        row = QHBoxLayout()
        self.export_btn = QPushButton("Export corrections…", body)
        self.export_btn.setToolTip("Save your corrections as JSONL (bestbox route --eval reads it)")
        self.export_btn.clicked.connect(self._export_clicked)
        self.reset_btn = QPushButton("Reset…", body)
        self.reset_btn.setToolTip("Forget your corrections; routing goes back to the shipped examples")
        self.reset_btn.clicked.connect(self._reset_clicked)
        for b in (self.export_btn, self.reset_btn):
            b.setEnabled(corrections is not None)
            row.addWidget(b)
        row.addStretch(1)
        self.refresh_btn = QPushButton("Refresh", body)
        self.refresh_btn.clicked.connect(self.refresh)
        row.addWidget(self.refresh_btn)
        lay.addLayout(row)
        lay.addStretch(1)
        self.report: dict = {}

    # -- mode ------------------------------------------------------------------------------------
    def _mode_picked(self, _i: int) -> None:
        value = self.mode.currentData()
        try:
            if self.config is not None:
                self.config.routing.mode = value
            if self.config_path is not None:
                from .. import config as config_mod

                config_mod.set_value(self.config_path, ("routing", "mode"), value)
            self.mode_note.setText(f"Routing mode is now “{value}” (saved). Switch back here at any time.")
        except Exception as e:  # noqa: BLE001
            log.warning("could not save routing mode: %s", e)
            self.mode_note.setText(f"Could not save the routing mode: {e}")
        self.mode_changed.emit(value)

    # -- corrections -----------------------------------------------------------------------------
    def export_to(self, path: str) -> int:
        n = self.corrections.export_corrections(path)
        self.mode_note.setText(f"Exported {n} correction{'s' if n != 1 else ''} to {path}.")
        return n

    def reset_now(self) -> None:
        self.corrections.reset_corrections()
        self.mode_note.setText("Corrections forgotten: routing uses the shipped examples again.")
        self.refresh()

    def _export_clicked(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(self, "Export route corrections", "route-corrections.jsonl",
                                              "JSON lines (*.jsonl)")
        if path:
            try:
                self.export_to(path)
            except OSError as e:
                self.mode_note.setText(f"Could not export: {e}")

    def _reset_clicked(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        if QMessageBox.question(self, "Reset corrections",
                                "Forget every route correction you made? Routing goes back to the shipped "
                                "examples. Export them first if you may want them back.") \
                == QMessageBox.StandardButton.Yes:
            self.reset_now()

    # -- report ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        rep = {}
        if self.report_source is not None:
            try:
                rep = self.report_source() or {}
            except Exception as e:  # noqa: BLE001
                rep = {"error": str(e)}
        self.show_report(rep)

    @staticmethod
    def _clear(grid: QGridLayout) -> None:
        while grid.count():
            it = grid.takeAt(0)
            if it.widget():
                it.widget().deleteLater()

    def _cell(self, grid: QGridLayout, r: int, c: int, text: str, head: bool = False) -> None:
        lbl = QLabel(text, grid.parentWidget())
        if head:
            lbl.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        grid.addWidget(lbl, r, c)

    def show_report(self, rep: dict) -> None:
        self.report = rep
        if rep.get("error"):
            self.acc_value.setText("—")
            self.acc_detail.setText(f"The report is not available: {rep['error']}")
            return
        n = rep.get("decisions") or 0
        wrong = rep.get("corrected_decisions") or 0
        self.acc_value.setText(_pct(rep.get("accuracy")) if n else "—")
        self.acc_detail.setText(
            f"{n} decision{'s' if n != 1 else ''}, {wrong} corrected by you. Decisions you did not correct count "
            "as right. Click an answer's agent badge to correct it." if n else
            "No routed questions yet. Click an answer's agent badge to correct a wrong route.")
        self._clear(self.by_decider)
        by = rep.get("accuracy_by_decided_by") or {}
        if by:
            for c, h in enumerate(("decided by", "decisions", "corrected", "accuracy")):
                self._cell(self.by_decider, 0, c, h, True)
            for r, (k, s) in enumerate(sorted(by.items()), start=1):
                self._cell(self.by_decider, r, 0, DECIDERS.get(k, k))
                self._cell(self.by_decider, r, 1, str(s.get("decisions", 0)))
                self._cell(self.by_decider, r, 2, str(s.get("corrected", 0)))
                self._cell(self.by_decider, r, 3, _pct(s.get("accuracy")))
        sh = rep.get("shadow") or {}
        if sh.get("checks"):
            hm = (sh.get("heavy_ms") or {}).get("p50_ms")
            self.shadow_value.setText(f"<span style='font-size:15pt; font-weight:600'>{_pct(sh.get('agreement'))}"
                                      f"</span><br>{sh.get('answered', 0)} of {sh['checks']} checks answered"
                                      + (f"; the heavy model took {_ms(hm)} (median)" if hm else ""))
        else:
            rate = getattr(getattr(self.config, "routing", None), "shadow_sample_rate", 0.0)
            self.shadow_value.setText(
                "No shadow checks yet." + ("" if rate else " They are off: set routing.shadow_sample_rate "
                                           "(e.g. 0.1) in the config to ask the heavy model about a sample of "
                                           "decisions."))
        self.shadow_value.setStyleSheet("" if sh.get("checks") else f"color: {theme.MUTED};")
        self._clear(self.times_grid)
        modes = rep.get("route_ms_by_mode") or {}
        if modes:
            for c, h in enumerate(("mode", "routes", "median", "p90", "max")):
                self._cell(self.times_grid, 0, c, h, True)
            for r, (m, s) in enumerate(sorted(modes.items()), start=1):
                self._cell(self.times_grid, r, 0, m)
                self._cell(self.times_grid, r, 1, str(s.get("n", 0)))
                self._cell(self.times_grid, r, 2, _ms(s.get("p50_ms")))
                self._cell(self.times_grid, r, 3, _ms(s.get("p90_ms")))
                self._cell(self.times_grid, r, 4, _ms(s.get("max_ms")))
        else:
            self._cell(self.times_grid, 0, 0, "No routed questions yet.", True)
