"""A GGUF without a chat template (what a base model looks like) is named, with the fix, by the
model check, `bestbox doctor` and the server card; a running server's /props gives it away too."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bestbox.config import ServerConfig
from bestbox.llm.templates import forget, request_fields, server_profile
from bestbox.servers.gguf import read_keys
from bestbox.servers.model_check import check_model_file, check_profile, check_server
from bestbox.servers.procs import stop_child

from family_servers import TEMPLATES, start_server

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def bare_gguf(tmp_path_factory, demo_model) -> Path:
    """The demo model with `tokenizer.chat_template` removed by the gguf package's own tool."""
    out = tmp_path_factory.mktemp("bare") / "smollm2-no-template.gguf"
    r = subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", "--remove-metadata",
                        "tokenizer.chat_template", str(demo_model), str(out)], capture_output=True, text=True,
                       input="YES\n", timeout=120)
    assert r.returncode == 0 and out.is_file(), r.stderr[-2000:]
    assert "tokenizer.chat_template" in read_keys(demo_model, {"tokenizer.chat_template"})
    assert read_keys(out, {"tokenizer.chat_template"}) == {}
    return out


def test_the_file_check_names_a_missing_template_with_the_fix(bare_gguf, demo_model):
    issues = check_model_file("light", ServerConfig(model=str(bare_gguf), ctx_size=4096, parallel=2))
    assert [i.kind for i in issues] == ["no_template"] and issues[0].severity == "error"
    assert "no chat template" in issues[0].problem and "--chat-template-file" in issues[0].fix
    assert "routing label" in issues[0].roles
    given = ServerConfig(model=str(bare_gguf), ctx_size=4096, parallel=2,
                         extra_args=["--chat-template-file", str(TEMPLATES / "Qwen-Qwen3-0.6B.jinja")])
    assert check_model_file("light", given) == []
    assert check_model_file("light", ServerConfig(model=str(demo_model), ctx_size=4096, parallel=2)) == []


def test_a_small_context_and_no_tools_are_named(demo_model):
    issues = check_model_file("heavy", ServerConfig(model=str(demo_model), ctx_size=4096, parallel=2))
    kinds = {i.kind: i for i in issues}
    assert "small_context" in kinds and "4096" in kinds["small_context"].problem
    assert "ctx_size to at least 8192" in kinds["small_context"].fix
    assert "no_tools" in kinds    # SmolLM2's own template has no tool support


def test_a_running_server_without_template_is_named(bare_gguf, llama_server_bin, tmp_path):
    proc, url = start_server(llama_server_bin, bare_gguf, tmp_path / "server.log", "--jinja")
    try:
        forget(url)
        prof = asyncio.run(server_profile(url))
        assert prof.fallback_template and "<|im_end|>" in prof.stops
        assert "<|im_end|>" in request_fields(prof, False)["stop"]   # a ChatML run ends at its first marker
        assert [i.kind for i in check_profile("heavy", prof)][0] == "no_template"
        issues = asyncio.run(check_server("heavy", ServerConfig(model=str(bare_gguf)), url))
        assert issues[0].kind == "no_template"
    finally:
        stop_child(proc)


def test_doctor_names_it(bare_gguf, tmp_config, tmp_path):

    import tomlkit

    cfg_path = Path(os.environ["BESTBOX_CONFIG"])
    data = tomlkit.parse(cfg_path.read_text())
    data["servers"]["light"]["model"] = str(bare_gguf)
    cfg_path.write_text(tomlkit.dumps(data))
    r = subprocess.run([sys.executable, "-m", "bestbox", "doctor", "--json"], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "DISPLAY": ""})
    out = json.loads(r.stdout)
    checks = {c["name"]: c for c in out["checks"]}
    light = checks["roles.light"]
    assert not light["ok"] and light["needed"] and r.returncode == 1
    assert "no chat template" in light["detail"] and "--chat-template-file" in light["fix"]
    assert checks["roles.heavy"]["needed"] is False or checks["roles.heavy"]["ok"]


def test_the_server_card_names_it(bare_gguf, qtbot, tmp_path):
    from bestbox.ui.server_card import ServerCard

    issues = check_model_file("light", ServerConfig(model=str(bare_gguf), ctx_size=2048, parallel=2))
    card = ServerCard("light")
    qtbot.addWidget(card)
    card.resize(460, 560)
    card.set_role_issues(issues)
    card.show()
    qtbot.waitExposed(card)
    assert card.roles.isVisible() and "no chat template" in card.roles.text()
    assert "small_context" in {i.kind for i in issues}
    shots = Path(os.environ.get("BESTBOX_SHOTS", tmp_path))
    card.grab().save(str(shots / "server-card-no-template.png"))
    card.set_role_issues([])
    assert not card.roles.isVisible()
