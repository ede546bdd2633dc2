"""The routing report's corrections controls: export and reset, against the real corrections store."""
import json

from bestbox.routing.corrections import CorrectionStore
from bestbox.routing.decision import RouteDecision
from bestbox.ui.routing_report import RoutingReport


class _Corrections:
    def __init__(self, store):
        self.store = store

    def export_corrections(self, path):
        return self.store.export(path)

    def reset_corrections(self):
        self.store.reset()


def test_export_and_reset_corrections(qtbot, tmp_path):
    store = CorrectionStore(tmp_path / "routing.sqlite")
    store.record("t1", "top menders by spend", RouteDecision(agent="crm", tier="heavy", needs_tools=True,
                                                             complexity="low", est_output_tokens=80, steps=1,
                                                             decided_by="fast", confidence=0.6, ms=0.2))
    store.correct("t1", "erp")
    w = RoutingReport(store.report, None, None, corrections=_Corrections(store))
    qtbot.addWidget(w)
    assert w.export_btn.isEnabled() and w.reset_btn.isEnabled()

    out = tmp_path / "c.jsonl"
    assert w.export_to(str(out)) == 1
    line = json.loads(out.read_text().splitlines()[0])
    assert line["text"] == "top menders by spend" and line["agent"] == "erp" and line["previous_agent"] == "crm"
    assert "Exported 1 correction" in w.mode_note.text()

    w.reset_now()
    assert store.corrections() == []
    assert "forgotten" in w.mode_note.text()
