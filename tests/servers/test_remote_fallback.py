"""A remote heavy with a local stand-in (`fallback = "local"`), through the real TLS front (nginx, test
CA, a llama-server with --api-key on 127.0.0.2): the team server killed mid-answer and between turns
→ the local heavy answers the same request with a note that says why; the team server back → the
next turn goes remote and the stand-in (ours) is stopped; the team server is never touched. And a
spoken question (espeak-ng → `bestbox voice --wav`) answered by the remote heavy through the proxy."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from bestbox.config import Config
from bestbox.servers import ServerManager
from bestbox.servers.state import ServerState

from servers_testutil import reaper, write_config
from remote_testutil import needs_nginx, team_server

S = ServerState
pytestmark = needs_nginx
_AUTOUSE = (reaper,)  # imported for its autouse: no llama-server may stay on this test's ports
QUESTION = "explain in detail how to plan a product launch"


@pytest.fixture(scope="module")
def team(tmp_path_factory, llama_server_bin, demo_model):
    with team_server(tmp_path_factory.mktemp("team"), llama_server_bin, demo_model) as ts:
        yield ts


def remote_heavy(cfg: Config, team, **kw) -> Config:
    """The test config's heavy (demo model, its own free port) pointed at the team server."""
    cfg = cfg.model_copy(deep=True)
    cfg.routing.mode = "fast"   # a general question goes to heavy without the light model's guess
    cfg.servers.heavy = cfg.servers.heavy.model_copy(update={
        "url": team.url(), "api_key_env": "TEAM_KEY", "ca_bundle": str(team.ca), "slow_ms": 5000, **kw})
    return cfg


async def _until_tokens(agen, kill=None) -> list:
    """A turn's events until its first answer token (with `kill`: the first token after the note,
    i.e. the request re-run on the fallback; `kill` runs at the first token: the team server goes
    away mid-answer), then the turn is stopped."""
    events: list = []
    t0 = time.monotonic()
    try:
        async for ev in agen:
            ev.data.setdefault("_at_s", round(time.monotonic() - t0, 3))  # printed with -s, never asserted
            events.append(ev)
            if ev.kind != "token":
                continue
            if kill is not None:
                kill()
                kill = None
            elif any(e.kind == "note" for e in events) or len([e for e in events if e.kind == "token"]) == 1:
                break
    finally:
        await agen.aclose()
    return events


def test_local_heavy_answers_while_the_team_server_is_away(team, tmp_config, tmp_path, monkeypatch):
    from bestbox.pipeline.assistant import Assistant
    from bestbox.pipeline.history import History

    monkeypatch.setenv("TEAM_KEY", team.key)
    cfg = remote_heavy(tmp_config, team, fallback="local")
    local_port = cfg.servers.heavy.port

    async def go():
        mgr = ServerManager(cfg, state_dir=tmp_path / "state")
        hist = History(tmp_path / "h.sqlite")
        a = Assistant(cfg, mgr, history=hist)
        seen: list = []
        mgr.subscribe(seen.append)
        out = {}
        try:
            snaps = await mgr.start("all")
            fb = mgr.local.by_name["heavy"]
            fb.keep_after_back_s = 0.5
            out["start"], out["local_at_start"] = snaps["heavy"], fb.sup.snapshot()
            out["mid"] = await _until_tokens(a.run_turn(QUESTION), kill=team.kill_upstream)
            conv = out["mid"][0].data["conversation_id"]
            out["down"] = await mgr.supervisors["heavy"].wait_for(lambda s: s.state is S.UNREACHABLE, 20)
            out["next"] = await _until_tokens(a.run_turn(QUESTION, conv))
            team.start_upstream()
            out["back"] = await mgr.supervisors["heavy"].wait_for(lambda s: s.info.serving, 30)
            out["again"] = await _until_tokens(a.run_turn(QUESTION, conv))
            out["stopped"] = await fb.sup.wait_for(lambda s: s.state is S.STOPPED, 30)
            # Gone again just before a turn, before any check noticed: the request fails, the
            # stand-in is started for it and answers it.
            team.kill_upstream()
            out["unnoticed"] = await _until_tokens(a.run_turn(QUESTION, conv))
            out["history"] = hist.load(conv)
            out["seen_local"] = [s for s in seen if s.name == "heavy-local"]
            team.start_upstream()
            await mgr.shutdown(stop_adopted=True)
            out["alive_after_shutdown"] = team.proc.poll() is None
        finally:
            await mgr.shutdown()
            hist.close()
        return out
    out = asyncio.run(go())
    for k in ("mid", "next", "again", "unnoticed"):
        first = [e.data["_at_s"] for e in out[k] if e.kind == "token"]
        print(f"{k}: first token at {first[0]} s, answering token at {first[-1]} s after the turn began")
    assert out["start"].state in (S.REMOTE, S.SLOW), out["start"].message
    assert out["local_at_start"].state is S.STOPPED  # on demand: nothing loaded while the team server serves
    # Mid-answer: remote heavy streamed, went away; the same request re-ran on the local heavy.
    mid = out["mid"]
    assert next(e for e in mid if e.kind == "route").data["decision"]["tier"] == "heavy"
    notes = [e.data for e in mid if e.kind == "note"]
    assert notes and notes[0]["text"].startswith("Answered by local heavy: team server unreachable"), notes
    assert team.url() in notes[0]["text"] and notes[0]["served_by"] == "heavy"
    assert notes[0]["server"] == {"tier": "heavy", "where": "local", "url": f"http://127.0.0.1:{local_port}",
                                  "stand_in": True}
    assert mid[-1].kind == "token"
    # Between turns: the team server is known to be down; the local heavy answers at once, with the reason.
    assert out["down"].state is S.UNREACHABLE
    nxt = [e.data["text"] for e in out["next"] if e.kind == "note"]
    assert any(n.startswith("Answered by local heavy: team server unreachable (remote " + team.url()) for n in nxt), nxt
    assert out["next"][-1].kind == "token"
    # Back: the panel's message says so, the next turn goes remote without a note, the stand-in stops.
    assert "back at" in out["back"].message
    assert not [e for e in out["again"] if e.kind == "note"] and out["again"][-1].kind == "token"
    assert out["stopped"].state is S.STOPPED
    assert any(s.state is S.READY for s in out["seen_local"])  # subscribers (the panel) saw the stand-in
    # Nothing typed is lost: every question is in the history with the server that answered it.
    hist = out["history"]
    unnoticed = [e.data for e in out["unnoticed"] if e.kind == "note"]
    assert unnoticed and unnoticed[0]["server"]["where"] == "local", unnoticed
    assert out["unnoticed"][-1].kind == "token"
    assert [m["role"] for m in hist] == ["user", "assistant"] * 4 and all(
        m["text"] == QUESTION for m in hist[::2])
    where = [m["meta"]["server"]["where"] for m in hist[1::2]]
    assert where == ["local", "local", "remote", "local"], where
    assert hist[1]["meta"]["model"] == "heavy" and hist[5]["meta"]["server"]["url"] == team.url()
    assert out["alive_after_shutdown"]  # the team server: never ours to stop


def test_spoken_question_is_answered_by_the_remote_heavy_through_tls(team, tmp_config, tmp_path, monkeypatch):
    """espeak-ng says a question, `bestbox voice --wav --json` hears it; the JSON names the remote heavy."""
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    monkeypatch.setenv("TEAM_KEY", team.key)
    if team.proc.poll() is not None:
        team.start_upstream()
    cfg = remote_heavy(tmp_config, team)
    write_config(cfg, tmp_path / "config" / "config.toml")
    wav = tmp_path / "q.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), QUESTION], check=True, capture_output=True)
    r = subprocess.run([sys.executable, "-m", "bestbox", "voice", "--wav", str(wav), "--json", "--no-cleanup"],
                       env=dict(os.environ), capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    out = json.loads(r.stdout)
    print({k: out.get(k) for k in ("transcript_raw", "server", "model", "timings")})
    assert "plan a product launch" in out["transcript_raw"].lower(), out["transcript_raw"]
    assert out["route"]["tier"] == "heavy" and out["model"] == "heavy", out["route"]
    assert out["server"] == {"tier": "heavy", "where": "remote", "url": team.url()}, out["server"]
    assert out["answer"] and not out["notes"], out["notes"]
    assert team.proc.poll() is None


def test_stand_in_loads_only_when_the_tier_was_started_and_stops_with_it(team, tmp_config, tmp_path, monkeypatch):
    """start_servers_on_launch = false only watches: the stand-in waits for a start (or a turn);
    Stop stops it too and it stays down while the team server is still away."""
    monkeypatch.setenv("TEAM_KEY", team.key)
    cfg = remote_heavy(tmp_config, team, fallback="local")
    cfg.servers.heavy.url = team.url("dead")   # the proxy answers 502: server down

    async def go():
        mgr = ServerManager(cfg, state_dir=tmp_path / "state")
        sup, stand_in = mgr.supervisors["heavy"], mgr.local.by_name["heavy"].sup
        out = {}
        try:
            out["watched"] = (await mgr.observe("heavy"))["heavy"]
            await sup.observe()
            out["idle"] = stand_in.snapshot()
            await mgr.start("heavy", wait=False)
            out["started"] = await stand_in.wait_for(lambda s: s.state is S.READY, 60)
            await mgr.stop("heavy")
            await sup.observe()
            await sup.observe()
            out["stopped"] = stand_in.snapshot()
        finally:
            await mgr.shutdown()
        return out
    out = asyncio.run(go())
    assert out["watched"].state is S.UNREACHABLE and out["idle"].state is S.STOPPED
    assert out["started"].state is S.READY and out["started"].owned
    assert out["stopped"].state is S.STOPPED


def test_a_turn_on_another_threads_loop_starts_the_stand_in_on_the_supervision_loop(team, tmp_config, tmp_path,
                                                                                     monkeypatch):
    """The window runs turns on the pipeline thread's loop, the supervision on the Qt loop: the stand-in
    a turn needs is started and waited for on the supervision's loop, the turn gets a client for its own."""
    import threading

    from bestbox.pipeline.assistant import Assistant
    from bestbox.pipeline.history import History

    monkeypatch.setenv("TEAM_KEY", team.key)
    cfg = remote_heavy(tmp_config, team, fallback="local")
    cfg.servers.heavy.url = team.url("dead")
    cfg.servers.light.enabled = False
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()

    async def go():
        mgr = ServerManager(cfg, state_dir=tmp_path / "state")
        hist = History(tmp_path / "h.sqlite")
        a = Assistant(cfg, mgr, history=hist)
        try:
            await mgr.observe("heavy")   # watched, not started: nothing loads until the turn asks
            idle = mgr.local.by_name["heavy"].sup.snapshot()
            events = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_until_tokens(a.run_turn(QUESTION)),
                                                                                other))
            stand_in = mgr.local.by_name["heavy"].sup
            home = stand_in._task.get_loop() is asyncio.get_running_loop()
            return idle, events, home
        finally:
            await mgr.shutdown()
            hist.close()
    try:
        idle, events, home = asyncio.run(go())
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join(10)
        other.close()
    assert idle.state is S.STOPPED and home
    notes = [e.data["text"] for e in events if e.kind == "note"]
    assert notes and notes[0].startswith("Answered by local heavy: team server unreachable"), notes
    assert "502" in notes[0] and events[-1].kind == "token"


def test_a_stand_in_needs_its_own_port():
    from bestbox.config import parse

    text = ('[servers.heavy]\nurl = "https://gpu.team.lan:8443"\nport = 8081\n{}\n'
            '[servers.light]\nport = 8081\n')
    _, issues = parse(text.format('fallback = "local"'))
    assert issues and "both use port 8081" in str(issues[0]), issues
    cfg, issues = parse(text.format(""))   # no stand-in: the remote heavy's port is not used
    assert not issues and cfg.servers.heavy.fallback == "other"
    _, issues = parse(text.format('fallback = "warm"'))
    assert issues and issues[0].key == "servers.heavy.fallback", issues


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bestbox", *argv], env=dict(os.environ), capture_output=True,
                          text=True, timeout=90)


def _gone(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_servers_status_shows_the_stand_in_and_why_it_runs(team, tmp_config, tmp_path, monkeypatch):
    """`servers status [--json]` beside a window whose team server is away: the stand-in the window
    started (state, port, pid, "started because: team server unreachable"); configured but idle before;
    `servers stop heavy` stops it (ours) and leaves the team server alone."""
    monkeypatch.setenv("TEAM_KEY", team.key)
    cfg = remote_heavy(tmp_config, team, fallback="local", keep_after_back_s=0)
    cfg.servers.heavy.url = team.url("dead")
    cfg.servers.light.enabled = False
    write_config(cfg, tmp_path / "config" / "config.toml")   # $BESTBOX_CONFIG: the CLI reads the same

    async def go():
        out = {"idle": await asyncio.to_thread(_cli, "servers", "status", "heavy", "--json")}
        mgr = ServerManager(cfg)   # the window's manager: the default state dir, where the CLI looks
        try:
            await mgr.start("heavy", wait=False)
            fb = mgr.local.by_name["heavy"]
            out["ready"] = await fb.sup.wait_for(lambda s: s.state is S.READY, 60)
            out["json"] = await asyncio.to_thread(_cli, "servers", "status", "heavy", "--json")
            out["text"] = await asyncio.to_thread(_cli, "servers", "status", "heavy")
            from bestbox.cli.doctor_cmd import check_port
            out["doctor"] = check_port("heavy", cfg)
            out["stop"] = await asyncio.to_thread(_cli, "servers", "stop", "heavy")
            out["gone"] = _gone(out["ready"].pid)   # (the window's supervisor would restart it as a crash)
        finally:
            await mgr.shutdown()
        return out
    out = asyncio.run(go())
    idle = json.loads(out["idle"].stdout)["servers"]["heavy"]
    assert idle["state"] == "unreachable" and idle["stand_in"]["state"] == "stopped", idle
    assert idle["stand_in"]["when"] == "starts when the team server stops answering" and not idle["stand_in"]["pid"]
    assert out["json"].returncode == 0, out["json"].stderr[-2000:]
    st = json.loads(out["json"].stdout)["servers"]["heavy"]["stand_in"]
    print(out["text"].stdout)
    assert st["name"] == "heavy-local" and st["state"] == "ready" and st["port"] == cfg.servers.heavy.port
    assert st["pid"] == out["ready"].pid and st["because"] == "team server unreachable", st
    assert st["keep_after_back_s"] == 0
    line = next(ln for ln in out["text"].stdout.splitlines() if ln.strip().startswith("heavy-local"))
    assert f"port {cfg.servers.heavy.port}" in line and f"pid {st['pid']}" in line
    assert line.endswith("started because: team server unreachable"), line
    assert out["doctor"].ok and out["doctor"].data == {"port": st["port"], "holder": "ours", "pid": st["pid"]}
    assert "the local stand-in heavy-local of the team server is running" in out["doctor"].detail
    assert out["stop"].returncode == 0 and "not ours to stop" in out["stop"].stdout
    assert f"stopped its local stand-in heavy-local (PID {st['pid']})" in out["stop"].stdout, out["stop"].stdout
    assert out["gone"]
    assert team.proc.poll() is None


def test_keep_after_back_is_a_checked_config_key():
    from bestbox.config import default_toml, parse

    cfg, issues = parse('[servers.heavy]\nurl = "https://gpu.team.lan:8443"\nfallback = "local"\n'
                        'keep_after_back_s = 300\n')
    assert not issues and cfg.servers.heavy.keep_after_back_s == 300
    _, issues = parse('[servers.heavy]\nkeep_after_back_s = -1\n')
    assert issues and issues[0].key == "servers.heavy.keep_after_back_s", issues
    assert "\nkeep_after_back_s = 60.0\n" in default_toml() and "before the local stand-in" in default_toml()


def _pad_front(wav, seconds: float) -> None:
    import wave

    with wave.open(str(wav), "rb") as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    with wave.open(str(wav), "wb") as w:
        w.setparams(params)
        w.writeframes(b"\0" * (int(params.framerate * seconds) * params.sampwidth * params.nchannels) + frames)


def _recording(env: dict) -> bool:
    """A client records from the virtual microphone (a PulseAudio source output exists)."""
    r = subprocess.run(["pactl", "list", "short", "source-outputs"], env=env, capture_output=True, text=True)
    return bool(r.stdout.strip())


def test_question_said_into_the_microphone_is_answered_by_the_remote_heavy(team, tmp_config, tmp_path,
                                                                           monkeypatch, virtual_mic):
    """`bestbox voice --listen --json` records from the virtual microphone (PulseAudio null sink);
    espeak-ng's question is played into it once the recording is open; the VAD ends the turn and the
    remote heavy answers through nginx's TLS front."""
    if not (shutil.which("espeak-ng") and shutil.which("paplay")):
        pytest.skip("espeak-ng and paplay are needed")
    monkeypatch.setenv("TEAM_KEY", team.key)
    if team.proc.poll() is not None:
        team.start_upstream()
    cfg = remote_heavy(tmp_config, team)
    cfg.speech.max_record_s = 30
    write_config(cfg, tmp_path / "config" / "config.toml")
    wav = tmp_path / "q.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), QUESTION], check=True, capture_output=True)
    _pad_front(wav, 0.4)   # a person pauses before speaking; paplay's stream start would clip the first word
    env = dict(os.environ, XDG_RUNTIME_DIR=virtual_mic["XDG_RUNTIME_DIR"])
    env.pop("PULSE_SERVER", None)
    child = subprocess.Popen([sys.executable, "-m", "bestbox", "voice", "--listen", "--json", "--no-cleanup"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not _recording(env):
            assert child.poll() is None and time.monotonic() < deadline, child.communicate()[1][-2000:]
            time.sleep(0.1)
        time.sleep(0.3)
        subprocess.run(["paplay", str(wav)], env=env, check=True, timeout=30)
        stdout, stderr = child.communicate(timeout=180)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, stdout[-2000:] + stderr[-2000:]
    out = json.loads(stdout)
    print({k: out.get(k) for k in ("transcript_raw", "server", "recording", "timings")})
    assert out["recording"]["reason"] == "vad_end", out["recording"]   # nobody pressed stop
    assert "plan a product launch" in out["transcript_raw"].lower(), out["transcript_raw"]
    assert out["route"]["tier"] == "heavy" and out["model"] == "heavy", out["route"]
    assert out["server"] == {"tier": "heavy", "where": "remote", "url": team.url()}, out["server"]
    assert out["answer"] and not out["notes"], out["notes"]
    assert team.proc.poll() is None
