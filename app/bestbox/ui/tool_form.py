"""A tool's form, shown in the chat when the model could not complete a call ("needs_input").

Built from the tool's JSON schema: plain-word labels (the schema's titles), the values the model
and the request gave prefilled, required fields marked, dates and times with a calendar picker,
choices as combo boxes, numbers as spin boxes. Send hands the filled arguments back to the chat,
which runs them through the pipeline (a write then shows the usual confirmation card)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDateTimeEdit, QDoubleSpinBox, QFormLayout,
                               QFrame, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QSpinBox,
                               QTimeEdit, QVBoxLayout, QWidget)

from . import theme

_ALTERNATION = re.compile(r"^\^\(?([A-Za-z0-9_ ]+(?:\|[A-Za-z0-9_ ]+)+)\)?\$$")
_CHAR_RANGE = re.compile(r"^\^([A-Za-z]*)\[(\d)-(\d)\]\$$")


def plain_words(name: str) -> str:
    """`duration_minutes` → "Duration minutes" (when the schema carries no title)."""
    s = name.replace("_", " ").strip()
    return s[:1].upper() + s[1:]


def choices(prop: dict) -> list[str] | None:
    """A field's allowed values: its enum, or a pattern that is a plain list (`^(prod|dev)$`, `^P[1-4]$`)."""
    if isinstance(prop.get("enum"), list):
        return [str(v) for v in prop["enum"]]
    pat = prop.get("pattern")
    if not isinstance(pat, str):
        return None
    m = _ALTERNATION.match(pat)
    if m:
        return m.group(1).split("|")
    m = _CHAR_RANGE.match(pat)
    if m and int(m.group(2)) <= int(m.group(3)):
        return [f"{m.group(1)}{i}" for i in range(int(m.group(2)), int(m.group(3)) + 1)]
    return None


def _kind(prop: dict) -> str:
    t = prop.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    fmt = prop.get("format")
    if fmt in ("date", "date-time", "time"):
        return fmt
    if choices(prop):
        return "choice"
    if t in ("integer", "number", "boolean", "array"):
        return t
    return "text"


def _parse_dt(v) -> datetime | None:
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day)
    if isinstance(v, str) and v.strip():
        try:
            return datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        except ValueError:
            try:
                t = datetime.strptime(v.strip(), "%H:%M").time()
                return datetime.combine(date.today(), t)
            except ValueError:
                return None
    return None


class _Field:
    """One input: its widget, how to read it, and whether it was left empty."""

    def __init__(self, name: str, prop: dict, required: bool, value, parent: QWidget):
        self.name = name
        self.prop = prop
        self.required = required
        self.kind = _kind(prop)
        self.enabled_box: QCheckBox | None = None
        self.widget = self._build(value, parent)

    def _build(self, value, parent: QWidget) -> QWidget:
        p, k = self.prop, self.kind
        if k == "choice":
            w = QComboBox(parent)
            opts = choices(p) or []
            if not self.required:
                w.addItem("(any)", None)
            for o in opts:
                w.addItem(o, o)
            pick = value if value not in (None, "") else p.get("default")
            if pick is not None and str(pick) in opts:
                w.setCurrentIndex(w.findData(str(pick)))
            return w
        if k == "boolean":
            w = QCheckBox(parent)
            w.setChecked(bool(value if value is not None else p.get("default", False)))
            return w
        if k in ("integer", "number"):
            w = QSpinBox(parent) if k == "integer" else QDoubleSpinBox(parent)
            lo = p.get("minimum", p.get("exclusiveMinimum", -1_000_000_000))
            hi = p.get("maximum", p.get("exclusiveMaximum", 1_000_000_000))
            w.setRange(int(lo) if k == "integer" else float(lo), int(hi) if k == "integer" else float(hi))
            if k == "number":
                w.setDecimals(2)
            v = value if isinstance(value, (int, float)) and not isinstance(value, bool) else p.get("default")
            if isinstance(v, (int, float)):
                w.setValue(int(v) if k == "integer" else float(v))
            if p.get("unit"):
                w.setSuffix(f" {p['unit']}")
            return w
        if k in ("date", "date-time", "time"):
            return self._build_when(value, parent)
        if p.get("maxLength", 0) > 200:
            w = QPlainTextEdit(parent)
            w.setFixedHeight(64)
            w.setPlainText("" if value is None else str(value))
            return w
        w = QLineEdit(parent)
        if value is None and isinstance(p.get("default"), str):
            value = p["default"]
        w.setText("" if value is None else (", ".join(map(str, value)) if isinstance(value, list) else str(value)))
        if p.get("maxLength"):
            w.setMaxLength(int(p["maxLength"]))
        if p.get("description"):
            w.setPlaceholderText(str(p["description"]))
        return w

    def _build_when(self, value, parent: QWidget) -> QWidget:
        k = self.kind
        dt = _parse_dt(value) or _parse_dt(self.prop.get("default"))
        if k == "date":
            w = QDateEdit(parent)
            w.setDisplayFormat("ddd d MMM yyyy")
        elif k == "time":
            w = QTimeEdit(parent)
            w.setDisplayFormat("HH:mm")
        else:
            w = QDateTimeEdit(parent)
            w.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        if k != "time":
            w.setCalendarPopup(True)
        # No value: the next full hour (a booking "now" at 23:17 is never what was meant).
        soon = (datetime.now() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        d = dt or soon
        if k == "date":
            w.setDate(QDate(d.year, d.month, d.day))
        elif k == "time":
            w.setTime(QTime(d.hour, d.minute))
        else:
            w.setDateTime(QDateTime(QDate(d.year, d.month, d.day), QTime(d.hour, d.minute)))
        if not self.required:
            # An optional date stays out of the call unless the user ticks it.
            self.enabled_box = QCheckBox(parent)
            self.enabled_box.setChecked(dt is not None)
            w.setEnabled(dt is not None)
            self.enabled_box.toggled.connect(w.setEnabled)
        return w

    def row_widget(self, parent: QWidget) -> QWidget:
        if self.enabled_box is None:
            return self.widget
        box = QWidget(parent)
        lay = QHBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.enabled_box)
        lay.addWidget(self.widget, 1)
        return box

    def value(self):
        """The value to send, or None when the field is left empty."""
        w, k = self.widget, self.kind
        if self.enabled_box is not None and not self.enabled_box.isChecked():
            return None
        if k == "choice":
            return w.currentData()
        if k == "boolean":
            return w.isChecked()
        if k in ("integer", "number"):
            return w.value()
        if k == "date":
            return w.date().toString("yyyy-MM-dd")
        if k == "time":
            return w.time().toString("HH:mm")
        if k == "date-time":
            return w.dateTime().toString("yyyy-MM-ddTHH:mm")
        text = w.toPlainText() if isinstance(w, QPlainTextEdit) else w.text()
        text = text.strip()
        if k == "array":
            return [s.strip() for s in text.split(",") if s.strip()] or None
        return text or None


class ToolForm(QFrame):
    """The form of one tool call. `submitted(arguments)` or `cancelled()` fire once."""

    submitted = Signal(object)  # a dict; object keeps the field order (a QVariantMap would sort it)
    cancelled = Signal()

    def __init__(self, data: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.tool = str(data.get("tool") or "tool")
        self.write = bool(data.get("write"))
        schema = data.get("schema") or {}
        props: dict = schema.get("properties") or {}
        # Required is what the schema requires; a "missing" optional field (given but unreadable)
        # is flagged, and may be left empty.
        required = set(schema.get("required") or [])
        flagged = set(data.get("missing") or []) | set(invalid_keys(data))
        prefilled = data.get("prefilled") or {}
        invalid = data.get("invalid") if isinstance(data.get("invalid"), dict) else {}
        self.turn_id = data.get("turn_id")
        self.flagged = sorted(flagged)      # fields the problem is about (missing or not understood)
        self.setObjectName("toolForm")
        self.setStyleSheet(f"#toolForm {{ background: #f7f9fb; border: 1px solid {theme.BORDER};"
                           " border-radius: 8px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        lay.setSpacing(6)
        title = data.get("title") or plain_words(self.tool)
        self.title = QLabel(f"<b>{_esc(title)}</b>", self)
        lay.addWidget(self.title)
        msg = data.get("message") or "Some details are missing. Fill them in and send."
        self.message = QLabel(msg, self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.MUTED};")
        lay.addWidget(self.message)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.fields: dict[str, _Field] = {}
        self.labels: dict[str, QLabel] = {}
        for name, prop in props.items():
            if not isinstance(prop, dict):
                continue
            f = _Field(name, prop, name in required, prefilled.get(name), self)
            label = QLabel(str(prop.get("title") or plain_words(name)) + (" *" if f.required else ""), self)
            if prop.get("description"):
                label.setToolTip(str(prop["description"]))
                f.widget.setToolTip(str(prop["description"]))
            self.fields[name] = f
            self.labels[name] = label
            form.addRow(label, f.row_widget(self))
            if name in flagged and not f.required:
                label.setStyleSheet(f"color: {theme.ERROR_TEXT};")
            if invalid.get(name):
                # What the user (or the model) gave that could not be read, next to its field.
                why = QLabel(f"Not understood: {invalid[name]}", self)
                why.setWordWrap(True)
                why.setStyleSheet(f"color: {theme.ERROR_TEXT}; font-size: 8.5pt;")
                label.setStyleSheet(f"color: {theme.ERROR_TEXT};")
                form.addRow("", why)
        lay.addLayout(form)
        self.problem = QLabel("", self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {theme.ERROR_TEXT};")
        self.problem.hide()
        lay.addWidget(self.problem)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.send_btn = QPushButton("Send", self)
        self.send_btn.setProperty("primary", True)
        self.cancel_btn = QPushButton("Cancel", self)
        hint = "* required" + (" · you confirm the change before anything is written" if self.write else "")
        self.status = QLabel(hint, self)
        self.status.setStyleSheet(f"color: {theme.MUTED};")
        self.status.setWordWrap(True)
        row.addWidget(self.send_btn)
        row.addWidget(self.cancel_btn)
        row.addSpacing(6)
        row.addWidget(self.status, 1)
        lay.addLayout(row)
        self.send_btn.clicked.connect(self.send)
        self.cancel_btn.clicked.connect(self.cancel)
        self.done = False

    def set_value(self, name: str, value) -> None:
        """Fill one field as a user would (tests, and prefill after the fact)."""
        f = self.fields[name]
        w = f.widget
        if f.enabled_box is not None:
            f.enabled_box.setChecked(True)
        if isinstance(w, QLineEdit):
            w.setText(str(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(str(value))
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(max(0, w.findData(str(value))))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
            w.setValue(value)
        elif isinstance(w, (QDateEdit, QDateTimeEdit, QTimeEdit)):
            dt = _parse_dt(value)
            if dt is not None:
                w.setDateTime(QDateTime(QDate(dt.year, dt.month, dt.day), QTime(dt.hour, dt.minute)))

    def arguments(self) -> dict:
        return {n: v for n, f in self.fields.items() if (v := f.value()) is not None}

    def summary(self) -> str:
        """The sent form as one line for the conversation: "Book a meeting room: room = Cedar, …"."""
        title = self.title.text().removeprefix("<b>").removesuffix("</b>")
        shown = [f"{self.labels[n].text().rstrip(' *').lower()} = {v}" for n, v in self.arguments().items()
                 if v not in (None, "", False)]
        return f"{title}: {', '.join(shown)}" if shown else title

    def missing(self) -> list[str]:
        return [n for n, f in self.fields.items() if f.required and f.value() in (None, "", [])]

    def send(self) -> None:
        if self.done:
            return
        missing = self.missing()
        for n, lbl in self.labels.items():
            lbl.setStyleSheet(f"color: {theme.ERROR_TEXT};" if n in missing else "")
        if missing:
            names = ", ".join(self.labels[n].text().rstrip(" *") for n in missing)
            self.problem.setText(f"Please fill in: {names}.")
            self.problem.show()
            return
        self.problem.hide()
        self._close("Sent — running it…")
        self.submitted.emit(self.arguments())

    def cancel(self) -> None:
        if self.done:
            return
        self._close("Cancelled — nothing was sent and nothing was changed.")
        self.cancelled.emit()

    def _close(self, text: str) -> None:
        self.done = True
        for f in self.fields.values():
            f.widget.setEnabled(False)
            if f.enabled_box is not None:
                f.enabled_box.setEnabled(False)
        self.send_btn.setEnabled(False)
        self.cancel_btn.setEnabled(False)
        self.status.setText(text)


def invalid_keys(data: dict) -> list[str]:
    inv = data.get("invalid")
    return list(inv) if isinstance(inv, dict) else []


def _esc(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
