"""A real shared "team" server for the remote tests: llama-server (demo model, --api-key) on
127.0.0.2, behind Debian's nginx with TLS from a test CA that openssl makes here.

nginx fronts (all https://127.0.0.1:<port>, certificate with an IP SAN for 127.0.0.1):
  main     proxies to the llama-server (proxy_buffering off: streaming as a team server needs it)
  dead     proxies to a port nothing listens on: "proxy up, server down" (502)
  slow     the main upstream with limit_rate: a slow link
  generic  only /v1/ proxied, `owned_by` rewritten: an OpenAI-compatible endpoint of unknown kind
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from servers_testutil import free_port

UPSTREAM_HOST = "127.0.0.2"  # not the app's own servers' address

needs_nginx = pytest.mark.skipif(shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"),
                                 reason="Debian's nginx is needed (launchers/lib/bootstrap.sh APT_TEST)")


def _run(*argv: str, cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)


def make_ca(d: Path, name: str) -> Path:
    _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN=BestBox {name}", cwd=d)
    return d / f"{name}.crt"


def make_server_cert(d: Path, ca: str = "ca") -> None:
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                               "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
    _run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    _run("openssl", "x509", "-req", "-in", "server.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
         "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf", cwd=d)


NGINX_CONF = """
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {d}/t/body; proxy_temp_path {d}/t/proxy; fastcgi_temp_path {d}/t/fcgi;
  uwsgi_temp_path {d}/t/uwsgi; scgi_temp_path {d}/t/scgi;
  ssl_certificate {d}/server.crt; ssl_certificate_key {d}/server.key;
  proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 300s;
  proxy_connect_timeout 2s;
  server {{ listen 127.0.0.1:{main} ssl; location / {{ proxy_pass http://{up}; }} }}
  server {{ listen 127.0.0.1:{dead} ssl; location / {{ proxy_pass http://{deadup}; }} }}
  server {{ listen 127.0.0.1:{slow} ssl; location / {{ proxy_pass http://{up}; }}
    location = /v1/models {{ proxy_pass http://{up}; proxy_buffering on; limit_rate 1000; }} }}
  server {{ listen 127.0.0.1:{generic} ssl;
    location /v1/ {{ proxy_pass http://{up}; proxy_set_header Accept-Encoding "";
                   sub_filter '"llamacpp"' '"acme-inference"'; sub_filter_once off;
                   sub_filter_types application/json; }}
    location / {{ return 404; }} }}
}}
"""


class TeamServer:
    def __init__(self, d: Path, binary: Path, model: Path, free_port) -> None:
        self.d, self.binary, self.model = d, binary, model
        self.key = "team-secret-key"
        self.up_port = free_port()
        self.ports = {k: free_port() for k in ("main", "dead", "slow", "generic")}
        self.dead_up_port = free_port()  # nothing listens there
        self.ca = make_ca(d, "ca")
        self.other_ca = make_ca(d, "other-ca")
        make_server_cert(d)
        self.proc: subprocess.Popen | None = None
        self.nginx: subprocess.Popen | None = None

    def ssl(self):
        import ssl

        return ssl.create_default_context(cafile=str(self.ca))

    def url(self, which: str = "main") -> str:
        return f"https://127.0.0.1:{self.ports[which]}"

    # -- the llama-server (the one place that builds its command line) -----------------------
    def start_upstream(self, timeout: float = 60) -> None:
        from bestbox.config import ServerConfig
        from bestbox.servers.command import build_command

        cfg = ServerConfig(model=str(self.model), host=UPSTREAM_HOST, port=self.up_port, ctx_size=2048,
                           parallel=1, n_gpu_layers=0, threads=1)
        cmd = build_command("team", cfg, api_key=self.key, server_binary=str(self.binary), allow_demo=False)
        assert cmd.ok, cmd.error
        log = open(self.d / "upstream.log", "ab")
        self.proc = subprocess.Popen(cmd.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.d / "upstream.log").read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"http://{UPSTREAM_HOST}:{self.up_port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("team llama-server not healthy")

    def kill_upstream(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    # -- nginx ---------------------------------------------------------------------------------
    def start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        (self.d / "t").mkdir(exist_ok=True)
        conf = self.d / "nginx.conf"
        conf.write_text(NGINX_CONF.format(d=self.d, up=f"{UPSTREAM_HOST}:{self.up_port}",
                                          deadup=f"{UPSTREAM_HOST}:{self.dead_up_port}", **self.ports))
        self.nginx = subprocess.Popen([nginx, "-p", str(self.d), "-e", str(self.d / "error.log"), "-c", str(conf),
                                       "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.nginx.poll() is None, self.nginx.stderr.read().decode(errors="replace")
            try:
                httpx.get(self.url("main") + "/health", verify=self.ssl(), timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("nginx did not come up")

    def close(self) -> None:
        self.kill_upstream()
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(10)


@contextmanager
def team_server(d: Path, binary: Path, model: Path):
    """A started TeamServer (upstream and nginx) in `d`, closed on exit."""
    d.mkdir(parents=True, exist_ok=True)
    ts = TeamServer(d, binary, model, free_port)
    try:
        ts.start_upstream()
        ts.start_nginx()
        yield ts
    finally:
        ts.close()
