"""The settings window: built from the config schema, the file's validation (errors name the key),
saved back into the TOML with the user's comments kept, applied to the running config."""
from __future__ import annotations

import tomllib

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from bestbox import config as config_mod
from bestbox.ui.settings_dialog import template_help

from ui_helpers import save_shot
from ui_helpers import settings_dialog as _dialog


def test_built_from_schema_with_help(qtbot, aloop, tmp_path, shots):  # aloop: the app's theme
    d, loaded, path = _dialog(qtbot, tmp_path)
    i = d.inputs
    assert isinstance(i["servers.heavy.port"].w, QSpinBox) and i["servers.heavy.port"].w.maximum() == 65535
    assert isinstance(i["routing.mode"].w, QComboBox) and i["routing.mode"].w.currentData() == "hybrid"
    assert isinstance(i["app.close_to_tray"].w, QCheckBox)
    assert isinstance(i["servers.light.model"].w, QLineEdit)
    assert i["llama.api_key"].w.echoMode() != QLineEdit.EchoMode.Normal
    assert d.labels["servers.heavy.ctx_size"].text() == "Context size"
    assert "silence" in d.labels["speech.vad_silence_ms"].toolTip().lower()
    assert template_help()["routing.fast_confidence"]
    assert {d.tabs.tabText(n) for n in range(d.tabs.count())} >= {"Models and servers", "Voice", "Routing"}
    assert "Example" not in d.labels["servers.heavy.command"].toolTip()
    qtbot.wait(100)
    save_shot(d, shots / "settings.png")


def test_invalid_values_name_the_key_and_save_nothing(qtbot, tmp_path):
    d, loaded, path = _dialog(qtbot, tmp_path)
    before = path.read_text()
    d.inputs["servers.light.port"].w.setValue(8080)  # same port as heavy
    d.inputs["servers.heavy.host"].w.setText("  ")
    assert d.save() is False
    assert "servers.heavy.host: host must not be empty" in d.message.text()
    assert "font-weight" in d.labels["servers.heavy.host"].styleSheet()
    d.inputs["servers.heavy.host"].w.setText("127.0.0.1")
    assert d.save() is False  # the rule across keys, as the file has it
    assert "servers: heavy and light servers both use port 8080" in d.message.text()
    assert "font-weight" in d.labels["servers.light.port"].styleSheet()
    d.inputs["servers.heavy.extra_args"].w.setText('--alias "unclosed')
    assert d.save() is False and "servers.heavy.extra_args" in d.message.text()
    assert path.read_text() == before


def test_save_keeps_comments_and_applies(qtbot, tmp_path):
    d, loaded, path = _dialog(qtbot, tmp_path)
    live = loaded.config
    d.inputs["routing.fast_confidence"].w.setValue(0.7)
    d.inputs["servers.heavy.ctx_size"].w.setValue(4096)
    d.inputs["servers.heavy.extra_args"].w.setText('--flash-attn on --alias "my model"')
    d.inputs["speech.glossary_extra"].w.setText("Contoso, SAP")
    got = []
    d.saved.connect(lambda cfg, keys: got.append(keys))
    assert d.save() is True
    text = path.read_text()
    assert "# my own note" in text and "# fast-path confidence needed" in text
    data = tomllib.loads(text)
    assert data["routing"]["fast_confidence"] == 0.7 and data["servers"]["heavy"]["ctx_size"] == 4096
    assert data["servers"]["heavy"]["extra_args"] == ["--flash-attn", "on", "--alias", "my model"]
    assert data["speech"]["glossary_extra"] == ["Contoso", "SAP"]
    assert live.routing.fast_confidence == 0.7 and live.servers.heavy.ctx_size == 4096  # the running config
    assert "Restart the servers to apply: servers.heavy.ctx_size" in d.message.text()
    assert "Applied now: " in d.message.text() and "routing.fast_confidence" in d.message.text()
    assert sorted(got[0]) == ["routing.fast_confidence", "servers.heavy.ctx_size", "servers.heavy.extra_args",
                              "speech.glossary_extra"]
    assert config_mod.load(path).ok
    assert d.save() is True and d.message.text() == "Nothing changed."


def test_fast_confidence_is_auto_or_a_number(qtbot, aloop, tmp_path, shots):
    """routing.fast_confidence: "auto" (the calibrated threshold) is the spin box's lowest step."""
    d, loaded, path = _dialog(qtbot, tmp_path)
    w = d.inputs["routing.fast_confidence"].w
    assert w.text() == "auto" and d.inputs["routing.fast_confidence"].read() == "auto"
    d.tabs.setCurrentIndex(2)
    d.grab().save(str(shots / "settings-routing-auto.png"))
    w.setValue(0.8)
    assert d.save() is True and tomllib.loads(path.read_text())["routing"]["fast_confidence"] == 0.8
    w.setValue(w.minimum())
    assert d.save() is True and tomllib.loads(path.read_text())["routing"]["fast_confidence"] == "auto"
    assert loaded.config.routing.fast_confidence == "auto"
