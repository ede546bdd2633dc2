"""The settings window's voice out and wake word: shown from the config schema, checked by its
validation, saved to the file and applied to the running config (the voice reloads on next use)."""
from __future__ import annotations

import tomllib

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit

from bestbox import config as config_mod
from bestbox.speak.lazy import LazyEngine

from ui_helpers import save_shot
from ui_helpers import settings_dialog as _dialog


def test_voice_tab_shows_voice_out_and_wake_word(qtbot, aloop, tmp_path, shots):
    d, loaded, _ = _dialog(qtbot, tmp_path)
    i = d.inputs
    engine, wake = i["voice_out.engine"].w, i["voice_in.wake_word"].w
    assert isinstance(engine, QComboBox) and [engine.itemData(n) for n in range(engine.count())] == ["piper", "espeak"]
    assert isinstance(i["voice_out.voice"].w, QLineEdit)
    rate = i["voice_out.rate"].w
    assert isinstance(rate, QDoubleSpinBox) and (rate.minimum(), rate.maximum(), rate.singleStep()) == (0.5, 2.0, 0.1)
    assert isinstance(i["voice_out.speak_typed"].w, QCheckBox) and not i["voice_out.speak_typed"].w.isChecked()
    assert i["voice_out.speak_spoken"].w.isChecked()
    assert wake.currentText() == "off" and wake.currentData() == ""
    assert {wake.itemData(n) for n in range(wake.count())} >= {"okay_nabu", "hey_jarvis"}
    assert i["voice_in.wake_cutoff"].w.text() == "the model's own"
    assert "Detection threshold" in d.labels["voice_in.wake_cutoff"].toolTip()
    d.tabs.setCurrentIndex([d.tabs.tabText(n) for n in range(d.tabs.count())].index("Voice"))
    d.resize(760, 1100)
    qtbot.wait(50)
    bar = d.tabs.currentWidget().verticalScrollBar()
    bar.setValue(bar.maximum())  # voice out and the wake word are at the end of the tab
    qtbot.wait(100)
    save_shot(d, shots / "settings_voice.png")


def test_wake_cutoff_is_checked_by_the_schema_and_nothing_is_saved(qtbot, tmp_path):
    d, _, path = _dialog(qtbot, tmp_path)
    before = path.read_text()
    d.inputs["voice_in.wake_word"].w.setCurrentIndex(d.inputs["voice_in.wake_word"].w.findData("hey_jarvis"))
    d.inputs["voice_in.wake_cutoff"].w.setValue(1.0)  # the spin box allows it; the schema says < 1
    assert d.save() is False
    assert "voice_in.wake_cutoff: Input should be less than 1" in d.message.text()
    assert "font-weight" in d.labels["voice_in.wake_cutoff"].styleSheet()
    assert path.read_text() == before


def test_voice_settings_save_and_apply(qtbot, tmp_path):
    d, loaded, path = _dialog(qtbot, tmp_path)
    i = d.inputs
    i["voice_out.engine"].w.setCurrentIndex(i["voice_out.engine"].w.findData("espeak"))
    i["voice_out.rate"].w.setValue(1.3)
    i["voice_out.speak_typed"].w.setChecked(True)
    i["voice_in.wake_word"].w.setCurrentIndex(i["voice_in.wake_word"].w.findData("hey_jarvis"))
    i["voice_in.wake_cutoff"].w.setValue(0.9)
    assert d.save(), d.message.text()
    assert "Applied now" in d.message.text() and "voice_in.wake_word" in d.message.text()
    saved = tomllib.loads(path.read_text())
    assert saved["voice_out"]["engine"] == "espeak" and saved["voice_out"]["rate"] == 1.3
    assert saved["voice_out"]["speak_typed"] is True
    assert saved["voice_in"] == {**saved["voice_in"], "wake_word": "hey_jarvis", "wake_cutoff": 0.9}
    assert "# my own note" in path.read_text()
    cfg = loaded.config
    assert (cfg.voice_out.engine, cfg.voice_out.rate, cfg.voice_in.wake_word) == ("espeak", 1.3, "hey_jarvis")


def test_the_voice_reloads_when_its_settings_change():
    vo = config_mod.Config().voice_out
    vo.engine = "espeak"
    lazy = LazyEngine(vo)
    first = lazy.get()
    assert lazy.get() is first and first.wpm == 175
    vo.rate = 1.4  # what the settings window's save does to the running config
    assert lazy.get() is not first and lazy.get().wpm == 245


def test_path_fields_have_a_browse_button_and_a_cancel_keeps_the_text(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QPushButton

    d, _, _ = _dialog(qtbot, tmp_path)
    voice = tmp_path / "en_GB-alan-medium.onnx"
    asked = []

    def pick(parent, title, start, filters):
        asked.append(filters)
        return (str(voice), filters)

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(pick))
    d.findChild(QPushButton, "voice_out.voice.browse").click()
    assert d.inputs["voice_out.voice"].w.text() == str(voice) and "*.onnx" in asked[0]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: ("", "")))
    d.findChild(QPushButton, "voice_out.voice.browse").click()
    assert d.inputs["voice_out.voice"].w.text() == str(voice)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a: str(tmp_path)))
    d.findChild(QPushButton, "speech.whisper_model.browse").click()
    assert d.inputs["speech.whisper_model"].w.text() == str(tmp_path)
    assert d.findChild(QPushButton, "servers.heavy.model.browse") is not None
