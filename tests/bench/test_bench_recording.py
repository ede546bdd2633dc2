"""`bestbox bench --tool-call-tokens`: a capped tool call that is no valid call becomes the first
offered tool's call (random-weight models, bench/recording.py); a valid one is kept as it is."""
from __future__ import annotations

import json

from bestbox.agents.calls import call_schema
from bestbox.agents.tools import tools_for
from bestbox.bench.recording import _as_call
from bestbox.llm.client import Completion


def test_capped_garbage_becomes_the_first_offered_tool_and_a_valid_call_stays():
    tools = tools_for("erp")[:3]
    schema = call_schema(tools)
    sub, comp = _as_call(Completion(text='{"tool": "top_vend', timings={"predicted_n": 40}), schema)
    assert sub and json.loads(comp.text) == {"tool": tools[0].name, "arguments": {}}
    assert comp.timings == {"predicted_n": 40}     # the server's own numbers are kept
    good = json.dumps({"tool": tools[1].name, "arguments": {"limit": 3}})
    sub, comp = _as_call(Completion(text=good), schema)
    assert not sub and comp.text == good
    sub, _ = _as_call(Completion(text=good), call_schema(tools[:1]))   # not a tool this schema offers
    assert sub
