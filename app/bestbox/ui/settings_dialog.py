"""Settings: what the config file holds, as a form built from the config schema (`config.Config`).

The same validation as the file (pydantic; an error names the key); saving writes only the
changed keys back into the TOML with tomlkit, so the user's comments and layout stay. Changes go
into the running app's config at once; what only a server restart (or an app restart) can take is
said so."""
from __future__ import annotations

import re
import shlex
import types
import typing
from pathlib import Path

from pydantic import BaseModel, ValidationError

# Before PySide6: shiboken's import hook inspects modules as they load, and pydantic's lazy
# attributes loaded under it import themselves in a circle when this module is imported first.
from .. import config as config_mod  # noqa: I001
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox,
                               QTabWidget, QVBoxLayout, QWidget)

from . import theme

# Tab title → the config sections on it (dotted paths into Config).
TABS = (("Models and servers", ("servers.heavy", "servers.light", "llama")),
        ("Voice", ("speech", "voice_out", "voice_in")),
        ("Routing", ("routing",)),
        ("Data and app", ("data", "app")))
SECTION_TITLES = {"servers.heavy": "Heavy model (agents, tools, long answers)",
                  "servers.light": "Light model (routing, quick answers, clean-up)",
                  "llama": "llama.cpp", "speech": "Speech recognition", "routing": "Routing",
                  "voice_out": "Voice out (spoken replies)", "voice_in": "Wake word (hands-free start)",
                  "data": "Data", "app": "Application"}
# Sections the running app takes at once; the others need a restart of the servers or the app.
LIVE = ("app", "routing", "speech", "voice_out", "voice_in")
# A float key whose lowest value means "not set": what its spin box shows there.
ZERO_MEANS = {"voice_in.wake_cutoff": "the model's own"}
NEEDS_SERVER_RESTART = ("servers", "llama")
LIST_AS_COMMAND = ("command", "extra_args")
# Keys that name a file or a folder: a Browse button beside the field (typing a path still works).
PICKERS = {"servers.heavy.model": ("file", "GGUF models (*.gguf);;All files (*)"),
           "servers.light.model": ("file", "GGUF models (*.gguf);;All files (*)"),
           "llama.server_binary": ("file", "All files (*)"),
           "speech.whisper_model": ("dir", ""),
           "voice_out.voice": ("file", "Piper voices (*.onnx);;All files (*)"),
           "data.database": ("file", "SQLite databases (*.db *.sqlite *.sqlite3);;All files (*)")}
_WORDS = {"ctx": "context", "vad": "VAD", "ms": "(ms)", "s": "(s)", "llm": "LLM", "api": "API", "cpu": "CPU",
          "gpu": "GPU", "n": "number of", "tools": "tools"}


def label_for(name: str) -> str:
    words = [_WORDS.get(w, w) for w in name.split("_")]
    s = " ".join(words).replace("number of gpu layers", "GPU layers")
    s = s.replace("number of GPU layers", "GPU layers")
    return s[:1].upper() + s[1:]


def template_help() -> dict[str, str]:
    """The shipped config's comments, per dotted key: the help a user reads in the file."""
    out: dict[str, str] = {}
    table, pending = "", []
    for line in config_mod.DEFAULT_TOML.splitlines():
        s = line.strip()
        if s.startswith("[") and s.endswith("]"):
            table, pending = s.strip("[]"), []
        elif s.startswith("#"):
            pending.append(s.lstrip("# ").strip())
        elif "=" in s:
            key = s.split("=", 1)[0].strip()
            tail = s.split("#", 1)[1].strip() if "#" in s and not s.split("=", 1)[1].strip().startswith('"#') else ""
            text = " ".join([*pending, tail]).strip()
            if text:
                out[f"{table}.{key}"] = text
            pending = []
        else:
            pending = []
    return out


def _node(cfg: BaseModel, path: str):
    for p in path.split("."):
        cfg = getattr(cfg, p)
    return cfg


def _bounds(info) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", getattr(m, "gt", lo)) if lo is None else lo
        hi = getattr(m, "le", getattr(m, "lt", hi)) if hi is None else hi
    return lo, hi


def _members(ann) -> list:
    """The types of a union (Annotated[...] unwrapped); [ann] for a plain type."""
    if typing.get_origin(ann) not in (typing.Union, types.UnionType):
        return [ann]
    return [typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a for a in typing.get_args(ann)]


def _literals(ann) -> list:
    return [v for m in _members(ann) if typing.get_origin(m) is typing.Literal for v in typing.get_args(m)]


class _Input:
    """One config key's widget and how to read it back."""

    def __init__(self, key: str, name: str, info, value, parent: QWidget):
        self.key, self.name = key, name
        ann = info.annotation
        origin = typing.get_origin(ann)
        if ann is bool:
            self.w = QCheckBox(parent)
            self.w.setChecked(bool(value))
            self.read = self.w.isChecked
        elif "auto" in _literals(ann) and float in _members(ann):
            # a 0..1 share or "auto" (routing.fast_confidence): a spin box whose lowest step reads "auto"
            self.w = QDoubleSpinBox(parent)
            self.w.setDecimals(2)
            self.w.setSingleStep(0.05)
            self.w.setRange(-0.05, 1.0)
            self.w.setSpecialValueText("auto")
            self.w.setValue(self.w.minimum() if value == "auto" else float(value))
            self.read = lambda: "auto" if self.w.value() <= self.w.minimum() else self.w.value()
        elif origin is typing.Literal:
            self.w = QComboBox(parent)
            for opt in typing.get_args(ann):
                self.w.addItem(str(opt) if opt != "" else "off", opt)
            self.w.setCurrentIndex(max(0, self.w.findData(value)))
            self.read = self.w.currentData
        elif ann in (int, float):
            lo, hi = _bounds(info)
            if ann is int:
                self.w = QSpinBox(parent)
                self.w.setRange(int(lo if lo is not None else -10**9), int(hi if hi is not None else 10**9))
            else:
                self.w = QDoubleSpinBox(parent)
                share = hi is not None and hi <= 1  # a share (0..1) needs more decimals than seconds
                factor = hi is not None and hi <= 4  # a speed like voice_out.rate (0.5..2)
                self.w.setDecimals(2 if share or factor else 1)
                self.w.setSingleStep(0.05 if share else 0.1 if factor else 1.0)
                if key in ZERO_MEANS:
                    self.w.setSpecialValueText(ZERO_MEANS[key])
                self.w.setRange(float(lo if lo is not None else 0), float(hi if hi is not None else 10**7))
            self.w.setValue(value)
            self.read = self.w.value
        elif origin is list:
            self.w = QLineEdit(parent)
            as_cmd = name in LIST_AS_COMMAND
            self.w.setText(shlex.join(value) if as_cmd else ", ".join(value))
            self.w.setPlaceholderText("words as on a command line, e.g. --flash-attn on" if as_cmd
                                      else "comma-separated, e.g. Contoso, SAP")
            self.read = (lambda: shlex.split(self.w.text())) if as_cmd else (
                lambda: [s.strip() for s in self.w.text().split(",") if s.strip()])
        else:
            self.w = QLineEdit(parent)
            self.w.setText("" if value is None else str(value))
            if name == "api_key":
                self.w.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
            self.read = lambda: self.w.text().strip()
        self.w.setObjectName(key)


class SettingsDialog(QDialog):
    saved = Signal(object, list)   # the new Config, the changed keys

    def __init__(self, loaded, parent: QWidget | None = None):
        super().__init__(parent)
        self.loaded = loaded
        self.setWindowTitle("BestBox settings")
        self.resize(720, 640)
        self.inputs: dict[str, _Input] = {}
        self.labels: dict[str, QLabel] = {}
        helps = template_help()
        lay = QVBoxLayout(self)
        where = QLabel(f"Saved to {getattr(loaded, 'path', '')} — your comments in the file are kept.", self)
        where.setStyleSheet(f"color: {theme.MUTED};")
        where.setWordWrap(True)
        lay.addWidget(where)
        self.tabs = QTabWidget(self)
        for title, sections in TABS:
            self.tabs.addTab(self._tab(sections, helps), title)
        lay.addWidget(self.tabs, 1)
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close,
                                        self)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.close)
        lay.addWidget(self.buttons)

    def _tab(self, sections, helps: dict[str, str]) -> QWidget:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        col = QVBoxLayout(body)
        cfg = self.loaded.config
        for sec in sections:
            head = QLabel(f"<b>{SECTION_TITLES.get(sec, sec)}</b>", body)
            col.addWidget(head)
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            node = _node(cfg, sec)
            for name, info in type(node).model_fields.items():
                key = f"{sec}.{name}"
                inp = _Input(key, name, info, getattr(node, name), body)
                lbl = QLabel(label_for(name), body)
                tip = info.description or helps.get(key) or helps.get(f"servers.heavy.{name}", "")
                # The file's TOML examples do not fit a form field that takes plain words.
                tip = re.split(r"(?:^|\s)(?:Example|e\.g\. \[)", tip)[0].strip()
                tip = re.sub(r"[,;:]$", ".", tip)   # the cut left "Your own domain words,"
                self.inputs[key] = inp
                self.labels[key] = lbl
                form.addRow(lbl, self._with_picker(key, inp, body) if key in PICKERS else inp.w)
                if tip:
                    lbl.setToolTip(tip)
                    inp.w.setToolTip(tip)
                    note = QLabel(tip, body)
                    note.setWordWrap(True)
                    note.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
                    form.addRow("", note)
            col.addLayout(form)
            col.addSpacing(8)
        col.addStretch(1)
        scroll.setWidget(body)
        return scroll

    def _with_picker(self, key: str, inp: _Input, parent: QWidget) -> QWidget:
        row = QWidget(parent)
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(inp.w, 1)
        btn = QPushButton("Browse…", row)
        btn.setObjectName(f"{key}.browse")
        btn.clicked.connect(lambda: self._pick(key, inp.w))
        lay.addWidget(btn)
        return row

    def _pick(self, key: str, field: QLineEdit) -> None:
        kind, filters = PICKERS[key]
        current = field.text().strip()
        start = str(Path(current).expanduser().parent) if current else str(Path.home())
        if kind == "dir":
            chosen = QFileDialog.getExistingDirectory(self, label_for(key.rsplit(".", 1)[1]), start)
        else:
            chosen = QFileDialog.getOpenFileName(self, label_for(key.rsplit(".", 1)[1]), start, filters)[0]
        if chosen:  # a cancelled dialog keeps what was there
            field.setText(chosen)

    def reload(self) -> None:
        """Show the running config's values (it may have changed since the dialog was built)."""
        cfg = self.loaded.config
        for key, inp in self.inputs.items():
            sec, name = key.rsplit(".", 1)
            v = getattr(_node(cfg, sec), name)
            w = inp.w
            if isinstance(w, QCheckBox):
                w.setChecked(bool(v))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(v)))
            elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                w.setValue(v)
            elif isinstance(v, list):
                w.setText(shlex.join(v) if inp.name in LIST_AS_COMMAND else ", ".join(v))
            else:
                w.setText("" if v is None else str(v))
        self.message.setText("")
        self._mark([])

    # -- validate and save ---------------------------------------------------------------------
    def values(self) -> dict:
        data = self.loaded.config.model_dump(mode="json")
        for key, inp in self.inputs.items():
            node = data
            parts = key.split(".")
            for p in parts[:-1]:
                node = node[p]
            try:
                node[parts[-1]] = inp.read()
            except ValueError as e:  # shlex: an unclosed quote
                raise _FieldError(key, str(e)) from e
        return data

    def validate(self) -> tuple[config_mod.Config | None, list[str]]:
        """The new Config, or the problems, each naming its key as the file would."""
        try:
            data = self.values()
        except _FieldError as e:
            return None, [f"{e.key}: {e.msg}"]
        try:
            return config_mod.Config.model_validate(data), []
        except ValidationError as e:
            probs = []
            for err in e.errors():
                key = ".".join(str(p) for p in err.get("loc", ()))
                probs.append(f"{key or 'servers'}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}")
            return None, probs

    def _mark(self, problems: list[str]) -> None:
        bad = {p.split(":", 1)[0] for p in problems}
        for key, lbl in self.labels.items():
            hit = key in bad or (key.endswith(".port") and "servers" in bad)
            lbl.setStyleSheet(f"color: {theme.ERROR_TEXT}; font-weight: 600;" if hit else "")

    def save(self) -> bool:
        new, problems = self.validate()
        self._mark(problems)
        if new is None:
            self.message.setStyleSheet(f"color: {theme.ERROR_TEXT};")
            self.message.setText("Not saved — please fix:\n" + "\n".join(f"• {p}" for p in problems))
            return False
        changed = changed_keys(self.loaded.config, new)
        if not changed:
            self.message.setStyleSheet(f"color: {theme.MUTED};")
            self.message.setText("Nothing changed.")
            return True
        try:
            write_keys(Path(self.loaded.path), new, changed)
        except OSError as e:
            self.message.setStyleSheet(f"color: {theme.ERROR_TEXT};")
            self.message.setText(f"Could not write {self.loaded.path}: {e}")
            return False
        apply_live(self.loaded.config, new, changed)
        self.message.setStyleSheet(f"color: {theme.TEXT};")
        self.message.setText(apply_note(changed))
        self.saved.emit(self.loaded.config, changed)
        return True


class _FieldError(Exception):
    def __init__(self, key: str, msg: str):
        super().__init__(msg)
        self.key, self.msg = key, msg


def _leaves(d: dict, prefix: str = "") -> dict[str, object]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_leaves(v, key + "."))
        else:
            out[key] = v
    return out


def changed_keys(old: config_mod.Config, new: config_mod.Config) -> list[str]:
    a, b = _leaves(old.model_dump(mode="json")), _leaves(new.model_dump(mode="json"))
    return [k for k in b if a.get(k) != b[k]]


def write_keys(path: Path, new: config_mod.Config, keys: list[str]) -> None:
    """Write only `keys` into the TOML file (tomlkit keeps every comment and the layout)."""
    import tomlkit

    text = path.read_text(encoding="utf-8") if path.exists() else config_mod.DEFAULT_TOML
    doc = tomlkit.parse(text)
    flat = _leaves(new.model_dump(mode="json"))
    for key in keys:
        parts = key.split(".")
        node = doc
        for p in parts[:-1]:
            if p not in node:
                node[p] = tomlkit.table()
            node = node[p]
        node[parts[-1]] = flat[key]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def apply_live(live: config_mod.Config, new: config_mod.Config, keys: list[str]) -> None:
    """Put the new values into the running app's Config object (everyone holds that one)."""
    for key in keys:
        sec, name = key.rsplit(".", 1)
        setattr(_node(live, sec), name, getattr(_node(new, sec), name))


def apply_note(keys: list[str]) -> str:
    server = [k for k in keys if k.split(".")[0] in NEEDS_SERVER_RESTART]
    app = [k for k in keys if k.split(".")[0] == "data"]
    live = [k for k in keys if k.split(".")[0] in LIVE]
    lines = ["Saved."]
    if live:
        lines.append("Applied now: " + ", ".join(live) + ".")
    if server:
        lines.append("Restart the servers to apply: " + ", ".join(server) + " (Servers menu → Restart).")
    if app:
        lines.append("Restart BestBox to apply: " + ", ".join(app) + ".")
    return " ".join(lines)
