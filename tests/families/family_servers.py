"""One llama-server per model family: the demo model (SmolLM2-135M) with that family's real chat
template from llama.cpp's source tree (tests/data/templates, see tests/data/README.md).

The servers check mechanisms, not wisdom: how BestBox's requests render in each template (thinking
switches, tool definitions, end markers) and what llama-server parses back. A family's server is
started when its first test runs and stopped after the module's last test of it (conftest.py)."""
from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "templates"


@dataclass(frozen=True)
class Family:
    key: str
    template: str
    thinking: bool      # the template reasons unless told not to
    tools: bool         # /props reports native tool-call support
    opens_think: bool = False   # with thinking on, the generation prompt itself opens <think>


FAMILIES = [
    Family("qwen3", "Qwen-Qwen3-0.6B.jinja", thinking=True, tools=True),
    Family("qwen3.5", "Qwen3.5-4B.jinja", thinking=True, tools=True, opens_think=True),
    Family("gemma2-3", "google-gemma-2-2b-it.jinja", thinking=False, tools=False),
    Family("gemma4", "google-gemma-4-31B-it.jinja", thinking=True, tools=True),
    Family("llama3.3", "meta-llama-Llama-3.3-70B-Instruct.jinja", thinking=False, tools=True),
    Family("mistral-small-3.2", "Mistral-Small-3.2-24B-Instruct-2506.jinja", thinking=False, tools=True),
    Family("glm-4.7", "GLM-4.7-Flash.jinja", thinking=True, tools=True, opens_think=True),
]


def start_server(binary: Path, model: Path, log: Path, *extra: str, timeout: float = 120.0):
    port = free_port()
    argv = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "--threads", "1",
            "--ctx-size", "4096", "--parallel", "1", *extra]
    fh = open(log, "wb")
    proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            fh.close()
            pytest.fail(f"llama-server exited ({proc.returncode}): {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"llama-server not healthy within {timeout:.0f} s: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
