"""Supervision against real llama-server processes with the demo model on free ports."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import httpx
import psutil

from bestbox.servers import ServerManager, ServerState, Supervisor, build_command
from servers_testutil import free_port, llama_servers_on, reaper, run, wait_until  # noqa: F401  (reaper is an autouse fixture)

S = ServerState


def _sup(cfg, name, tmp_path, **kw) -> Supervisor:
    return Supervisor(name, cfg.server(name), api_key=cfg.llama.api_key, server_binary=cfg.llama.server_binary,
                      state_dir=tmp_path / "run", **kw)


def test_start_ready_means_health_and_one_completion(tmp_config, tmp_path):
    async def main():
        mgr = ServerManager(tmp_config, state_dir=tmp_path / "run")
        seen = []
        mgr.subscribe(lambda s: seen.append(s.state))
        try:
            snaps = await mgr.start("all")
            assert {n: s.state for n, s in snaps.items()} == {"heavy": S.READY, "light": S.READY}, snaps
            heavy = mgr.snapshot("heavy")
            assert heavy.owned and heavy.pid and psutil.pid_exists(heavy.pid)
            assert heavy.load_progress == 1.0 and heavy.message.startswith("ready")
            assert S.STARTING in seen and seen.index(S.STARTING) < seen.index(S.READY)
            async with httpx.AsyncClient() as h:
                assert (await h.get(heavy.base_url + "/health")).status_code == 200
                metrics = (await h.get(heavy.base_url + "/metrics",
                                       headers={"Authorization": f"Bearer {tmp_config.llama.api_key}"})).text
            # the readiness probe generated a token before READY was declared
            predicted = [ln for ln in metrics.splitlines() if ln.startswith("llamacpp:tokens_predicted_total")]
            assert predicted and float(predicted[0].split()[-1]) >= 1
            client = mgr.client("light")
            assert client is not None and mgr.is_ready("light")
            out = await client.complete([{"role": "user", "content": "Say hi"}], max_tokens=8)
            assert out.timings.get("predicted_n", 0) >= 1
            await asyncio.sleep(2.2)  # a couple of monitoring rounds
            light = mgr.snapshot("light")
            assert light.model_name.endswith(".gguf") and light.total_slots == 2 \
                and light.ctx_per_slot == tmp_config.servers.light.ctx_size // 2
            assert light.rss_bytes and light.rss_bytes > 10e6 and light.uptime_s > 1
            assert light.tokens_per_s and light.tokens_per_s > 0
            assert light.busy_slots == 0 and light.requests_total is not None
            assert "[bestbox] starting light" in "\n".join(mgr.logs("light"))
        finally:
            await mgr.shutdown()
        assert mgr.snapshot("heavy").state is S.STOPPED
    run(main())


def test_kill9_is_detected_and_restarted(tmp_config, tmp_path):
    async def main():
        sup = _sup(tmp_config, "light", tmp_path)
        try:
            snap = await sup.start()
            assert snap.state is S.READY
            old = snap.pid
            os.kill(old, signal.SIGKILL)
            # Seen from the exit status (not from failing health checks); how fast is `bestbox
            # bench`'s "crash → detected" number.
            crashed = await sup.wait_for(lambda s: s.state is S.CRASHED, timeout=30)
            assert "SIGKILL" in crashed.message and "restarting" in crashed.message
            ready = await sup.wait_for(lambda s: s.state is S.READY, timeout=30)
            assert ready.pid != old and ready.restarts == 1 and psutil.pid_exists(ready.pid)
            # why it restarted stays on the snapshot (the card shows it), with the log lines before it
            assert "SIGKILL" in ready.last_exit and ready.last_exit_log
            assert ready.to_dict()["last_exit_log"] == list(ready.last_exit_log)
        finally:
            await sup.stop()
            await sup.close()
    run(main())


def test_gives_up_after_max_restarts(tmp_config, tmp_path):
    tmp_config.servers.light.max_restarts = 1

    async def main():
        sup = _sup(tmp_config, "light", tmp_path, backoff_s=0.1)
        try:
            snap = await sup.start()
            assert snap.state is S.READY
            os.kill(snap.pid, signal.SIGKILL)
            snap = await sup.wait_for(lambda s: s.state is S.READY and s.restarts == 1, timeout=30)
            os.kill(snap.pid, signal.SIGKILL)
            failed = await sup.wait_for(lambda s: s.state is S.FAILED, timeout=5)
            assert "gave up after 1" in failed.message
        finally:
            await sup.stop()
            await sup.close()
    run(main())


def test_port_held_by_another_process_is_a_conflict_with_its_pid(tmp_config, tmp_path):
    port = tmp_config.servers.heavy.port
    holder = subprocess.Popen([sys.executable, "-c", (
        "import socket,time;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
        f"s.bind(('127.0.0.1',{port}));s.listen();print('up',flush=True);time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "up"

        async def main():
            sup = _sup(tmp_config, "heavy", tmp_path)
            try:
                snap = await sup.start()
                assert snap.state is S.PORT_CONFLICT
                assert f"PID {holder.pid}" in snap.message and "python" in snap.message.lower()
                assert snap.pid is None
                # nothing was spawned
                assert not llama_servers_on([port])
            finally:
                await sup.close()
        run(main())
    finally:
        holder.kill()
        holder.wait()


def test_running_llama_server_on_the_port_is_external_and_never_killed(tmp_config, tmp_path):
    cmd = build_command("heavy", tmp_config.servers.heavy, tmp_config)
    other = subprocess.Popen(cmd.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        assert wait_until(lambda: httpx.get(cmd.base_url + "/health").status_code == 200
                          if _answers(cmd.base_url) else False, timeout=30)

        async def main():
            sup = _sup(tmp_config, "heavy", tmp_path)
            try:
                snap = await sup.start()
                assert snap.state is S.EXTERNAL and not snap.owned
                assert snap.pid == other.pid and "did not start" in snap.message
                stopped = await sup.stop()
                assert stopped.state is S.STOPPED and "keeps running" in stopped.message
                assert other.poll() is None, "an external server must never be stopped"
            finally:
                await sup.close()
        run(main())
    finally:
        other.terminate()
        other.wait(10)


def _answers(url: str) -> bool:
    try:
        httpx.get(url + "/health", timeout=0.5)
        return True
    except httpx.HTTPError:
        return False


def test_garbage_model_file_gives_a_readable_reason(tmp_config, tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"this is not a gguf file at all" * 100)
    tmp_config.servers.heavy.model = str(bad)

    async def main():
        sup = _sup(tmp_config, "heavy", tmp_path)
        try:
            snap = await sup.start(timeout=30)
            assert snap.state is S.FAILED
            assert "could not load the model" in snap.message and str(bad) in snap.message
            assert "Traceback" not in snap.message and snap.pid is None
            assert any("[bestbox]" in ln for ln in sup.log_lines())
        finally:
            await sup.close()
    run(main())


def test_missing_model_without_demo_fallback_fails_readably(tmp_config, tmp_path):
    tmp_config.servers.heavy.model = str(tmp_path / "nope" / "model.gguf")

    async def main():
        sup = _sup(tmp_config, "heavy", tmp_path, allow_demo=False)
        try:
            snap = await sup.start()
            assert snap.state is S.FAILED and "model file not found" in snap.message
        finally:
            await sup.close()
    run(main())


def test_missing_model_falls_back_to_demo_and_says_so(tmp_config, tmp_path):
    tmp_config.servers.light.model = str(tmp_path / "missing-7b.gguf")

    async def main():
        sup = _sup(tmp_config, "light", tmp_path)
        try:
            snap = await sup.start()
            assert snap.state is S.READY and snap.using_demo_model
            assert "demo model" in snap.message and "missing-7b.gguf" in snap.message
        finally:
            await sup.stop()
            await sup.close()
    run(main())


def test_missing_binary_fails_readably(tmp_config, tmp_path):
    tmp_config.llama.server_binary = str(tmp_path / "no-such-llama-server")
    custom = tmp_config.model_copy(deep=True)
    custom.servers.light.command = [str(tmp_path / "gone" / "llama-server"), "--port", "{port}"]

    async def main():
        sup = _sup(tmp_config, "heavy", tmp_path)
        sup2 = _sup(custom, "light", tmp_path)
        try:
            snap = await sup.start()
            assert snap.state is S.FAILED and "not an executable file" in snap.message
            snap2 = await sup2.start()
            assert snap2.state is S.FAILED and "does not exist" in snap2.message
        finally:
            await sup.close()
            await sup2.close()
    run(main())


def test_stop_is_idempotent_and_stop_during_start_works(tmp_config, tmp_path):
    async def main():
        sup = _sup(tmp_config, "heavy", tmp_path)
        try:
            assert (await sup.stop()).state is S.STOPPED  # nothing running: fine
            await sup.start(wait=False)
            pid = sup.snapshot().pid
            assert sup.snapshot().state is S.STARTING and pid
            snap = await sup.stop()  # long before READY
            assert snap.state is S.STOPPED and snap.pid is None
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
            assert (await sup.stop()).state is S.STOPPED
            assert (await sup.start()).state is S.READY  # and it can start again
            await asyncio.gather(sup.stop(), sup.stop())
            assert sup.snapshot().state is S.STOPPED
        finally:
            await sup.close()
    run(main())


def test_shutdown_leaves_no_llama_server_child(tmp_config, tmp_path):
    async def main():
        mgr = ServerManager(tmp_config, state_dir=tmp_path / "run")
        snaps = await mgr.start("all")
        pids = [s.pid for s in snaps.values()]
        assert all(pids)
        await mgr.shutdown()
        return pids
    pids = run(main())
    me = psutil.Process()
    ports = [str(tmp_config.servers.heavy.port), str(tmp_config.servers.light.port)]
    assert not [c for c in me.children(recursive=True)
                if "llama-server" in c.name() and set(ports) & set(c.cmdline())]
    for pid in pids:
        assert not psutil.pid_exists(pid)
    assert not list((tmp_path / "run").glob("*.pid.json")), "PID files are removed on stop"


def test_shared_port_is_refused(tmp_config, tmp_path):
    cfg = tmp_config.model_copy(deep=True)
    cfg.servers.__dict__["light"] = cfg.servers.light.model_copy(update={"port": cfg.servers.heavy.port})

    async def main():
        mgr = ServerManager(cfg, state_dir=tmp_path / "run")
        try:
            snaps = await mgr.start("all")
            assert all(s.state is S.FAILED and "both configured for port" in s.message for s in snaps.values())
        finally:
            await mgr.shutdown()
    run(main())


def test_memory_check_names_numbers_when_too_big(tmp_config, tmp_path):
    mgr = ServerManager(tmp_config, state_dir=tmp_path / "run")
    assert mgr.memory_check() is None  # the demo model fits
    est = mgr.estimate("heavy")
    assert est["kv_source"] == "GGUF header" and est["kv_bytes"] > 0 and est["file_bytes"] > 0
    tmp_config.servers.heavy.ctx_size = 50_000_000  # absurd context: KV cache alone is hundreds of GiB
    warning = mgr.memory_check()
    assert warning and "GiB" in warning and "heavy" in warning and "available" in warning


def test_app_killed_with_sigkill_leaves_no_orphan(tmp_config, tmp_path):
    script = tmp_path / "app.py"
    script.write_text(f"""
import asyncio, sys
from bestbox import config
from bestbox.servers import Supervisor
async def main():
    cfg = config.load().config
    sup = Supervisor("heavy", cfg.servers.heavy, api_key=cfg.llama.api_key,
                     server_binary=cfg.llama.server_binary, state_dir=__import__("pathlib").Path({str(tmp_path / 'run')!r}))
    snap = await sup.start()
    print(snap.state.value, snap.pid, flush=True)
    await asyncio.sleep(600)
asyncio.run(main())
""")
    app = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        state, pid = app.stdout.readline().split()
        assert state == "ready"
        pid = int(pid)
        assert psutil.pid_exists(pid)
        app.send_signal(signal.SIGKILL)
        app.wait(5)
        assert wait_until(lambda: not psutil.pid_exists(pid) or
                          psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, timeout=5), "orphan server"
    finally:
        app.kill()
        app.wait()

    async def sweep():  # the next start finds the stale PID file and removes it
        sup = _sup(tmp_config, "heavy", tmp_path)
        try:
            return await sup.sweep()
        finally:
            await sup.close()
    assert "stale PID file" in run(sweep())


def test_frozen_server_becomes_degraded_then_ready_again(tmp_config, tmp_path):
    async def main():
        sup = _sup(tmp_config, "heavy", tmp_path)
        try:
            snap = await sup.start()
            os.kill(snap.pid, signal.SIGSTOP)  # alive but not answering: health times out
            try:
                deg = await sup.wait_for(lambda s: s.state is S.DEGRADED, timeout=10)
                assert "health" in deg.message
            finally:
                os.kill(snap.pid, signal.SIGCONT)
            again = await sup.wait_for(lambda s: s.state is S.READY, timeout=10)
            assert again.pid == snap.pid and again.restarts == 0
        finally:
            await sup.stop()
            await sup.close()
    run(main())


def test_subscriber_exceptions_do_not_break_supervision(tmp_config, tmp_path):
    async def main():
        sup = _sup(tmp_config, "light", tmp_path)
        got = []

        def bad(_):
            raise RuntimeError("boom")
        sup.subscribe(bad)
        unsub = sup.subscribe(lambda s: got.append(s.state))
        sup.subscribe_logs(lambda lines: 1 / 0)
        try:
            assert (await sup.start()).state is S.READY
            unsub()
            n = len(got)
            await sup.stop()
            assert len(got) == n and S.READY in got
        finally:
            await sup.close()
    run(main())


def test_reconfigure_applies_at_next_start(tmp_config, tmp_path):
    async def main():
        mgr = ServerManager(tmp_config, state_dir=tmp_path / "run")
        try:
            first = (await mgr.start("light"))["light"]
            new = tmp_config.model_copy(deep=True)
            new.servers.light.port = free_port()
            await mgr.reconfigure(new)
            assert mgr.snapshot("light").port == first.port  # running: unchanged until restart
            again = (await mgr.restart("light"))["light"]
            assert again.state is S.READY and again.port == new.servers.light.port != first.port
        finally:
            await mgr.shutdown()
    run(main())


def test_external_server_with_another_api_key_is_a_conflict_not_external(tmp_config, tmp_path):
    cmd = build_command("heavy", tmp_config.servers.heavy, tmp_config, api_key="somebody-elses-key")
    other = subprocess.Popen(cmd.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        assert wait_until(lambda: _answers(cmd.base_url) and httpx.get(cmd.base_url + "/health").status_code == 200,
                          timeout=30)

        async def main():
            sup = _sup(tmp_config, "heavy", tmp_path)
            try:
                snap = await sup.start()
                assert snap.state is S.PORT_CONFLICT, snap
                assert "rejects our API key" in snap.message and "[llama] api_key" in snap.message
                assert other.poll() is None
            finally:
                await sup.close()
        run(main())
    finally:
        other.terminate()
        other.wait(10)


def test_light_counts_its_requests_and_a_stopped_server_shows_no_speed(tmp_config, tmp_path):
    """The light card's Requests stayed 0 after answers (a slot that had never worked was not
    counted) and Speed kept its old value after a stop."""
    async def main():
        sup = _sup(tmp_config, "light", tmp_path)
        try:
            snap = await sup.start()
            assert snap.state is S.READY and snap.total_slots in (None, 2)
            from bestbox.llm.client import LLMClient

            client = LLMClient(snap.base_url, tmp_config.llama.api_key)
            try:
                for i in range(3):
                    await client.complete([{"role": "user", "content": f"Count to {i + 3}"}], max_tokens=12)
                    await asyncio.sleep(1.2)  # one stats round between answers
            finally:
                await client.close()
            counted = await sup.wait_for(lambda s: (s.requests_total or 0) >= 3 and s.tokens_per_s, timeout=10)
            assert counted.requests_total >= 3 and counted.tokens_per_s > 0
            stopped = await sup.stop()
            assert stopped.tokens_per_s is None and stopped.requests_total is None and stopped.busy_slots is None
            again = await sup.start()
            assert again.requests_total in (None, 0) and again.tokens_per_s is None
        finally:
            await sup.stop()
            await sup.close()
    run(main())
