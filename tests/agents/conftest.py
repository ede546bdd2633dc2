"""Fixtures for the agents tests: a demo database and a real llama-server with the demo model."""
from __future__ import annotations

import asyncio
import socket
from datetime import date
from pathlib import Path

import pytest

from bestbox.agents.data import generate
from bestbox.llm.client import Completion, StreamEvent

SEED = 7


@pytest.fixture(scope="session")
def today() -> date:
    return date.today()


@pytest.fixture(scope="session")
def shared_db(tmp_path_factory, today) -> Path:
    """One generated database for read-only tests (do not change it)."""
    p = tmp_path_factory.mktemp("db") / "demo.sqlite"
    generate(p, seed=SEED, today=today)
    return p


@pytest.fixture
def fresh_db(tmp_path, today) -> Path:
    """A database of its own, for tests that change data."""
    p = tmp_path / "demo.sqlite"
    generate(p, seed=SEED, today=today)
    return p


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(spawn_llama_server):
    """A real llama-server with SmolLM2-135M on a free port; yields its base URL."""
    return spawn_llama_server("--ctx-size", "2048", "--jinja", "--metrics")


class ScriptedClient:
    """`completions`: texts returned by complete() in order; `streams`: per stream() call, either a
    list of tokens or a dict {"tokens": [...], "tool_calls": [...]}."""

    base_url = "http://scripted"
    api_key = "none"

    def __init__(self, completions=(), streams=(), token_delay=0.0):
        self.completions = list(completions)
        self.streams = list(streams)
        self.token_delay = token_delay
        self.requests: list[dict] = []
        self.closed_streams = 0

    async def complete(self, messages, **kw):
        self.requests.append({"kind": "complete", "messages": messages, **kw})
        text = self.completions.pop(0) if self.completions else ""
        return Completion(text=text, timings={"predicted_n": 7}, finish_reason="stop")

    async def stream(self, messages, **kw):
        self.requests.append({"kind": "stream", "messages": messages, **kw})
        spec = self.streams.pop(0) if self.streams else ["ok"]
        if isinstance(spec, list):
            spec = {"tokens": spec}
        try:
            for tok in spec.get("tokens", []):
                if self.token_delay:
                    await asyncio.sleep(self.token_delay)
                yield StreamEvent("token", text=tok)
            yield StreamEvent("done", timings={"predicted_n": len(spec.get("tokens", [])), "predicted_per_second": 99.0},
                              finish_reason="stop", tool_calls=spec.get("tool_calls", []))
        finally:
            self.closed_streams += 1


@pytest.fixture
def scripted():
    """The ScriptedClient class (tests build one per scripted conversation)."""
    return ScriptedClient
