"""Issue 13: the fast path's confidence is a measured probability, the hand-off threshold comes
from the cross-validated curve, and the requests from the issue are never confidently wrong."""
import json
import math
from pathlib import Path

import pytest

from bestbox.config import RoutingConfig
from bestbox.routing import calibration as C
from bestbox.routing.calibrate import heldout_rows
from bestbox.routing.fast_path import MODEL_VERSION, FastPath, load_examples, norm_key
from bestbox.routing.router import Router


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BESTBOX_DATA_DIR", str(tmp_path_factory.mktemp("data")))  # the model cache goes to tmp
    yield FastPath.from_shipped()
    mp.undo()


def test_calibration_file_loads_and_matches_the_model(shipped):
    cal = C.load_calibration()
    assert cal is not None, "routing/data/calibration.json missing: run python -m bestbox.routing.calibrate"
    assert cal["model_version"] == MODEL_VERSION
    assert cal["model_key"] == shipped.key, "training examples changed: re-run python -m bestbox.routing.calibrate"
    assert 0.05 < cal["temperature"] < 20 and shipped.temperature == cal["temperature"]
    assert 0.5 <= cal["threshold"] <= 1.0
    assert cal["cv"]["at_threshold"]["accuracy_on_decided"] >= C.TARGET_ACCURACY   # the rule it was chosen by
    assert C.auto_threshold(shipped) == cal["threshold"]


def test_held_out_set_is_never_trained_on():
    pool = {norm_key(r["text"]) for r in load_examples(Path(__file__).parents[2] / "app/bestbox/routing/data/spoken_train.jsonl")}
    held = heldout_rows()
    assert len(held) >= 200
    assert not pool & {norm_key(r["text"]) for r in held}


def test_ece_on_a_toy_example():
    # bin (0.8, 0.9]: confidence 0.9, accuracy 0.5; bin (0.5, 0.6]: confidence 0.6, accuracy 1.0
    assert math.isclose(C.ece([0.9, 0.9, 0.6, 0.6], [True, False, True, True]), 0.5 * 0.4 + 0.5 * 0.4)
    assert math.isclose(C.ece([0.75] * 4, [True, True, True, False]), 0.0, abs_tol=1e-12)
    bins = C.reliability([0.9, 0.9, 0.6, 0.6], [True, False, True, True])
    assert [(b["n"], b["accuracy"]) for b in bins] == [(2, 1.0), (2, 0.5)]
    assert C.ece([], []) == 0.0


def test_threshold_is_the_lowest_with_enough_accuracy_on_decided():
    conf = [0.99, 0.95, 0.9, 0.8, 0.7]
    right = [True, True, True, False, True]
    assert C.choose_threshold(conf, right, target=0.98) == 0.9    # 0.8 would let the wrong one through
    assert C.choose_threshold(conf, right, target=0.75) == 0.7    # 4/5 right at 0.7
    assert C.choose_threshold([0.9, 0.9], [True, False], target=0.98) == 1.0   # a tie decides together
    assert C.choose_threshold([0.6, 0.4], [False, True], target=0.5) == 1.0    # nothing clears the target
    s = C.decided_stats(conf, right, 0.8)
    assert (s["decided"], s["accuracy_on_decided"], s["confidently_wrong"]) == (4, 0.75, 0.2)


def test_temperature_fit_undoes_overconfidence():
    # logits three times too sharp for how often they are right: the fit cools them down
    logits = [[3.0 * 2, 0.0, 0.0]] * 8 + [[0.0, 3.0 * 2, 0.0]] * 2
    labels = [0] * 7 + [1] + [1, 2]
    T = C.fit_temperature(logits, labels)
    assert T > 1.5
    assert C.log_loss(logits, labels, T) < C.log_loss(logits, labels, 1.0)


@pytest.mark.parametrize("text", ["the wifi in meeting room three keeps dropping",
                                  "which laptops are out of warranty this year"])
def test_issue_examples_are_never_confidently_wrong(shipped, text):
    r = shipped.classify(text)
    assert r.agent == "it_ops" or r.confidence < C.auto_threshold(shipped), (r.agent, r.confidence)


def test_router_auto_threshold_and_a_number_overrides(shipped):
    assert RoutingConfig().fast_confidence == "auto"
    assert Router(RoutingConfig(), None, shipped).threshold == C.load_calibration()["threshold"]
    assert Router(RoutingConfig(fast_confidence=0.7), None, shipped).threshold == 0.7
    with pytest.raises(ValueError):
        RoutingConfig(fast_confidence=1.5)


def test_a_correction_fixes_a_held_out_miss_at_once(shipped):
    held = heldout_rows()
    wrong = [r for r in held if shipped.classify(r["text"]).agent != r["agent"]]
    assert wrong
    try:
        for r in wrong:
            shipped.add_example(r["text"], r["agent"])
            got = shipped.classify(r["text"])
            assert (got.agent, got.correction) == (r["agent"], True)
    finally:
        shipped.clear_corrections()


def test_entity_names_add_their_kind():
    from bestbox.routing.fast_path import entity_features

    f = entity_features("is the Cedar room free", {"cedar": "room"})
    assert f["w:room"] == 1 and f["e:room"] == 1 and f["<ro"] == 1
    assert not entity_features("anything", {})
    json.dumps(dict(f))


def test_unsure_says_whether_cues_disagree_or_are_weak(shipped):
    from bestbox.routing.fast_path import FastResult
    from bestbox.routing.router import unsure_reason

    two = FastResult("erp", 0.5, {"erp": 0.5, "oa": 0.4, "crm": 0.05, "it_ops": 0.03, "general": 0.02})
    assert unsure_reason(two) == "cues disagree: erp 0.50, oa 0.40"
    weak = FastResult("erp", 0.4, {"erp": 0.4, "oa": 0.2, "crm": 0.2, "it_ops": 0.1, "general": 0.1})
    assert unsure_reason(weak) == "weak cues: erp 0.40"
    import asyncio

    r = Router(RoutingConfig(fast_confidence=1.0), None, shipped)
    d = asyncio.run(r.route("book a room so we can go over the open supplier invoices", None, mode="hybrid"))
    assert d.decided_by == "fallback" and d.detail["fast"]["unsure"]


def test_the_users_names_route_by_their_kind(shipped):
    from bestbox.routing.fast_path import entity_features

    f = entity_features("any news from Wood Corner", {"wood corner": "vendor"})
    assert f["e:vendor"] == 1 and f["w:vendor"] == 1 and f["<ven"] == 1
    try:
        shipped.entity_names = {"wood corner": "vendor"}
        assert shipped.classify("any news from wood corner").agent == "erp"
        shipped.entity_names = {"wood corner": "customer"}
        assert shipped.classify("any news from wood corner").agent == "crm"
    finally:
        shipped.entity_names = {}
