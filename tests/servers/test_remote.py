"""A shared team server as either tier: a real llama-server (demo model, --api-key) on 127.0.0.2
behind a real nginx with TLS from a test CA. Wrong key, wrong CA, proxy up but server down, a slow
link, a generic endpoint, a busy server, the server killed and back, and BestBox never touching it."""
from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from bestbox.config import Config, ServerConfig
from bestbox.servers import ServerManager
from bestbox.servers.remote import RemoteSupervisor
from bestbox.servers.state import ServerState

from servers_testutil import write_config
from remote_testutil import needs_nginx, team_server

S = ServerState
pytestmark = needs_nginx


@pytest.fixture(scope="module")
def team(tmp_path_factory, llama_server_bin, demo_model):
    with team_server(tmp_path_factory.mktemp("team"), llama_server_bin, demo_model) as ts:
        yield ts


@pytest.fixture
def key_env(team, monkeypatch):
    monkeypatch.setenv("TEAM_KEY", team.key)
    return "TEAM_KEY"


def remote_cfg(team, which="main", **kw) -> ServerConfig:
    return ServerConfig(**{"url": team.url(which), "api_key_env": "TEAM_KEY", "ca_bundle": str(team.ca),
                           "slow_ms": 5000, **kw})


def check(cfg: ServerConfig):
    async def go():
        sup = RemoteSupervisor("heavy", cfg)
        try:
            return await sup.start(timeout=30)
        finally:
            await sup.close()
    return asyncio.run(go())


def test_ready_through_tls_with_the_key_and_kind_detected(team, key_env):
    snap = check(remote_cfg(team))
    assert snap.state is S.REMOTE, snap.message
    assert snap.remote and snap.url == team.url() and snap.server_kind == "llama-server"
    assert snap.models and snap.model_name == snap.models[0]
    assert snap.round_trip_ms is not None and snap.first_token_ms is not None
    assert "round trip" in snap.message and "first token" in snap.message
    assert snap.info.serving and not (snap.info.can_start or snap.info.can_stop or snap.info.can_restart)


def test_wrong_key_is_named_401(team, monkeypatch):
    monkeypatch.setenv("TEAM_KEY", "not-the-key")
    snap = check(remote_cfg(team))
    assert snap.state is S.UNAUTHORIZED and "401" in snap.message and "$TEAM_KEY" in snap.message


def test_no_key_and_no_keyring_says_where_to_put_it(team, monkeypatch):
    monkeypatch.delenv("TEAM_KEY", raising=False)
    snap = check(remote_cfg(team))
    assert snap.state is S.UNAUTHORIZED and "401" in snap.message
    assert "TEAM_KEY" in snap.message  # the variable to set (this machine has no keyring backend)


@pytest.mark.parametrize("ca", ["other", "system"])
def test_wrong_ca_is_a_named_tls_error(team, key_env, ca):
    snap = check(remote_cfg(team, ca_bundle=str(team.other_ca) if ca == "other" else ""))
    assert snap.state is S.UNREACHABLE
    assert "TLS error" in snap.message and "not trusted" in snap.message and "ca_bundle" in snap.message


def test_proxy_up_server_down_is_unreachable_not_a_crash(team, key_env):
    snap = check(remote_cfg(team, "dead"))
    assert snap.state is S.UNREACHABLE and "502" in snap.message and "proxy up, server down" in snap.message


def test_slow_link_shows_slow_with_the_times(team, key_env):
    snap = check(remote_cfg(team, "slow", slow_ms=300))
    assert snap.state is S.SLOW and snap.info.serving and snap.info.severity == "warning"
    assert "round trip" in snap.message and "over 300 ms" in snap.message


def test_model_missing_names_the_model_and_what_is_offered(team, key_env):
    snap = check(remote_cfg(team, remote_model="qwen2.5-32b-instruct"))
    assert snap.state is S.MODEL_MISSING and "qwen2.5-32b-instruct" in snap.message
    assert snap.models and snap.models[0] in snap.message


def test_generic_endpoint_detected_and_tools_mode_probed(team, key_env):
    from bestbox.agents.loop import _PROBED, _probe, probe_tools_mode
    from bestbox.llm.client import LLMClient

    snap = check(remote_cfg(team, "generic"))
    assert snap.state is S.REMOTE and snap.server_kind == "generic", snap.message

    async def go():
        c = LLMClient(team.url("generic"), team.key, model=snap.model_name, ca_bundle=str(team.ca), remote=True)
        try:
            _PROBED.pop(c.base_url, None)
            # No /props here: a probe call with tools decides; the 135M model answers in prose.
            generic = await probe_tools_mode(c.base_url, c.api_key, client=c)
            c2 = LLMClient(team.url("main"), team.key, ca_bundle=str(team.ca), remote=True)
            _PROBED.pop(c2.base_url, None)
            via_props = await probe_tools_mode(c2.base_url, c2.api_key, client=c2)  # read through TLS + key
            await c2.close()
            direct = await _probe(f"http://127.0.0.2:{team.up_port}", team.key, 3.0)  # the same server, no TLS
            return generic, via_props, direct
        finally:
            await c.close()
    generic, via_props, direct = asyncio.run(go())
    assert generic == "schema"
    assert via_props == direct  # /props read through nginx, TLS and the key, as a local server's is


def test_busy_with_other_peoples_requests_is_busy_not_broken(team, key_env):
    async def go():
        sup = RemoteSupervisor("heavy", remote_cfg(team))
        other = httpx.AsyncClient(verify=team.ssl(), timeout=60)
        try:
            assert (await sup.start(timeout=30)).state is S.REMOTE
            # Someone else's long answer holds the only slot (--parallel 1).
            long = asyncio.ensure_future(other.post(
                team.url() + "/v1/chat/completions", headers={"Authorization": f"Bearer {team.key}"},
                json={"messages": [{"role": "user", "content": "Write a long story."}], "max_tokens": 3000,
                      "ignore_eos": True, "stream": True}))  # streamed: the server stops when we hang up
            snap = None
            for _ in range(50):
                await asyncio.sleep(0.1)
                snap = await sup.observe()
                if snap.state is S.BUSY:
                    break
            long.cancel()
            await other.aclose()
            after = snap
            for _ in range(100):  # the slot frees once the server notices (the next tests need it)
                after = await sup.observe()
                if after.state is not S.BUSY:
                    break
                await asyncio.sleep(0.1)
            assert after.state is not S.BUSY, after.message
            return snap
        finally:
            await other.aclose()
            await sup.close()
    snap = asyncio.run(go())
    assert snap.state is S.BUSY and snap.info.serving and snap.info.severity == "ok"
    assert "1/1 slots busy" in snap.message


async def _until_tokens(agen, after_note: bool = False, kill=None) -> list:
    """A turn's events up to its first answer token (after the fallback note when asked), then the
    turn is stopped: the test needs the route, the note and who answers, not the 400-token answer."""
    events = []
    try:
        async for ev in agen:
            events.append(ev)
            if ev.kind == "token" and kill is not None:
                kill()  # the remote server goes away mid-answer
                kill = None
            elif ev.kind == "token" and (not after_note or any(e.kind == "note" for e in events)):
                break
    finally:
        await agen.aclose()
    return events


def test_killed_server_falls_back_to_light_with_a_note_and_comes_back(team, key_env, tmp_path, tmp_config):
    """The manager holds a remote heavy and a local light. The remote server is killed mid-answer, stays
    down for the next turn, and comes back; BestBox never stops it."""
    from bestbox.pipeline.assistant import Assistant
    from bestbox.pipeline.history import History

    cfg: Config = tmp_config.model_copy(deep=True)
    cfg.routing.mode = "fast"  # a general question to heavy, decided without the light model's guess
    cfg.servers.heavy = remote_cfg(team)
    question = "explain in detail how to plan a product launch"

    async def go():
        mgr = ServerManager(cfg, state_dir=tmp_path / "state")
        hist = History(tmp_path / "h.sqlite")
        a = Assistant(cfg, mgr, history=hist)
        out = {}
        try:
            snaps = await mgr.start("all")
            out["start"] = snaps["heavy"]
            assert snaps["light"].state is S.READY, snaps["light"].message
            out["stop"] = (await mgr.stop("heavy"))["heavy"]  # never ours to stop
            out["alive_after_stop"] = team.proc.poll() is None
            out["mid"] = await _until_tokens(a.run_turn(question), after_note=True, kill=team.kill_upstream)
            out["down"] = await mgr.supervisors["heavy"].wait_for(lambda s: s.state is S.UNREACHABLE, 20)
            conv = out["mid"][0].data["conversation_id"]
            out["next"] = await _until_tokens(a.run_turn(question, conv))
            out["history"] = hist.load(out["next"][0].data["conversation_id"])
            team.start_upstream()
            out["back"] = await mgr.supervisors["heavy"].observe()
            await mgr.shutdown(stop_adopted=True)
            out["alive_after_shutdown"] = team.proc.poll() is None
        finally:
            await mgr.shutdown()
            hist.close()
        return out
    out = asyncio.run(go())
    assert out["start"].state in (S.REMOTE, S.SLOW), out["start"].message
    assert out["alive_after_stop"] and out["alive_after_shutdown"]
    # Mid-answer: heavy streamed, went away, the same question went to light after a note.
    mid = out["mid"]
    assert next(e for e in mid if e.kind == "route").data["decision"]["tier"] == "heavy"
    notes = [e.data for e in mid if e.kind == "note"]
    assert notes and notes[0]["served_by"] == "light" and "heavy unreachable" in notes[0]["text"], notes
    assert [e.kind for e in mid].index("note") < len(mid) - 1 and mid[-1].kind == "token"
    assert out["down"].state is S.UNREACHABLE and "proxy up, server down" in out["down"].message
    # The next turn: light answers at once, with the reason and the address.
    nxt = [e.data["text"] for e in out["next"] if e.kind == "note"]
    assert any(n.startswith("Answered by light: heavy unreachable") and team.url() in n for n in nxt), nxt
    roles = [m["role"] for m in out["history"]]
    assert roles == ["user", "assistant", "user", "assistant"], roles  # what was typed is kept
    assert out["history"][0]["text"] == question and out["history"][2]["text"] == question
    assert out["history"][1]["meta"]["model"] == "light" and out["history"][-1]["meta"]["model"] == "light"
    assert out["history"][1]["meta"]["route"].get("partial_before_fallback")  # heavy's partial answer kept
    assert out["back"].state in (S.REMOTE, S.SLOW) and "back at" in out["back"].message


def test_cli_status_says_remote_with_its_address(team, key_env, tmp_config, tmp_path):
    import json
    import subprocess
    import sys



    tmp_config.servers.heavy = remote_cfg(team)
    write_config(tmp_config, tmp_path / "config" / "config.toml")
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "bestbox", "servers", "status", "heavy", "--json"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    heavy = json.loads(r.stdout)["servers"]["heavy"]
    assert heavy["remote"] and heavy["url"] == team.url() and heavy["state"] in ("remote", "slow")
    r = subprocess.run([sys.executable, "-m", "bestbox", "servers", "status", "heavy"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert "remote" in r.stdout and team.url() in r.stdout
    r = subprocess.run([sys.executable, "-m", "bestbox", "servers", "stop", "heavy"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "not ours to stop" in r.stdout and team.proc.poll() is None
    r = subprocess.run([sys.executable, "-m", "bestbox", "servers", "login", "heavy"], env=env, input="k\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "api_key_env" in r.stderr  # no keyring backend on this machine


def test_vllm_shapes_from_its_documented_api():
    """vLLM cannot run here: its /v1/models and /metrics shapes (docs/team-server.md) parsed as documented."""
    from bestbox.servers.remote_probe import RemoteCheck, _kind, _prometheus, _verdict, origin

    listing = {"object": "list", "data": [{"id": "qwen2.5-14b-instruct", "object": "model", "owned_by": "vllm",
                                           "root": "Qwen/Qwen2.5-14B-Instruct", "max_model_len": 16384}]}
    assert _kind(listing) == "vllm" and _kind({"data": [{"id": "m", "owned_by": "acme"}]}) == "generic"
    m = _prometheus('# HELP vllm:num_requests_waiting Number of requests waiting.\n'
                    'vllm:num_requests_waiting{engine="0",model_name="qwen2.5-14b-instruct"} 3.0\n'
                    'vllm:num_requests_running{engine="0",model_name="qwen2.5-14b-instruct"} 32.0\n')
    assert m["vllm:num_requests_waiting"] == 3 and m["vllm:num_requests_running"] == 32
    out = RemoteCheck(S.REMOTE, "", kind="vllm", model="qwen2.5-14b-instruct", round_trip_ms=40.0, queued=3,
                      processing=32)
    _verdict(out, 1500)
    assert out.state is S.BUSY and "32 running, 3 waiting" in out.message
    assert origin("https://gpu.team.lan:8000/v1/") == "https://gpu.team.lan:8000"


def test_switching_heavy_to_remote_in_the_config_keeps_the_panel_subscribed(team, key_env, tmp_path, tmp_config):
    cfg: Config = tmp_config
    remote = cfg.model_copy(deep=True)
    remote.servers.heavy = remote_cfg(team)

    async def go():
        mgr = ServerManager(cfg, state_dir=tmp_path / "state")
        seen = []
        mgr.subscribe(lambda s: seen.append(s))
        try:
            await mgr.reconfigure(remote)
            snap = await mgr.supervisors["heavy"].wait_settled(30)
            return mgr, snap, seen
        finally:
            await mgr.shutdown()
    mgr, snap, seen = asyncio.run(go())
    assert isinstance(mgr.supervisors["heavy"], RemoteSupervisor)
    assert snap.state is S.REMOTE and any(s.remote and s.state is S.REMOTE for s in seen)
