"""Routing test fixtures: a private data dir per test, and one real llama-server with the demo
model (SmolLM2-135M) for the light-LLM router tests."""
from __future__ import annotations

import socket

import pytest



@pytest.fixture(autouse=True)
def _private_dirs(tmp_path, monkeypatch):
    """Corrections, caches and config go to tmp, never to the user's dirs."""
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BESTBOX_CONFIG", str(tmp_path / "config.toml"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    return _free_port()


@pytest.fixture(scope="session")
def light_server(spawn_llama_server):
    """base URL of a real llama-server with the demo model (a light server: two slots)."""
    return spawn_llama_server("--ctx-size", "2048", "--parallel", "2")


class StubClient:
    """Stands in for LLMClient where the point is the router's handling of an answer."""

    def __init__(self, text: str = "erp", delay: float = 0.0, error: Exception | None = None):
        self.text, self.delay, self.error = text, delay, error
        self.calls = 0

    async def complete(self, messages, **kw):
        import asyncio

        from bestbox.llm.client import Completion

        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error:
            raise self.error
        return Completion(text=self.text, timings={"predicted_n": 2, "prompt_n": 5, "cache_n": 250})


@pytest.fixture
def stub_client():
    return StubClient
