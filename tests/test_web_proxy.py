"""`tutor serve` behind a real reverse proxy: Debian's nginx, started by the test as the
current user with everything in tmp_path, forwarding a path of its own (/tutor/) to the
tutor, WebSocket upgrade included. The learner goes through the proxy only: the printed
address, the page, its script and the WebSocket, and answers a step.

The site block is the one docs/lab-setup.md §8 shows; keep them the same."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import pwd
import socket
import subprocess
import time
from pathlib import Path

import pytest
from webhelpers import answer_first_step, free_port, need, start_serve, stop, stop_serve

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("textual_serve")

# docs/lab-setup.md §8: the map goes in nginx's http block, the location in the server's
SITE = """
map $http_upgrade $connection_upgrade {
    default upgrade;
    ""      close;
}
server {
    listen 127.0.0.1:PROXY_PORT;
    location /tutor/ {
        AUTH
        proxy_pass http://127.0.0.1:TUTOR_PORT/;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_read_timeout 1h;
    }
}
"""


def ssha(password: str) -> str:
    """An htpasswd entry's password in nginx's {SSHA} scheme (no Apache tools needed)."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


class Nginx:
    """A private nginx: its pid file, logs and temporary files in ``root``; no daemon."""

    def __init__(self, root: Path, tutor_port: int, auth: tuple[str, str] | None = None):
        self.binary = need("nginx", "nginx")
        self.root = root
        self.port = free_port()
        root.mkdir()
        site_auth = ""
        if auth:
            (root / "htpasswd").write_text(f"{auth[0]}:{ssha(auth[1])}\n")
            site_auth = (
                f'auth_basic "backprop-tutor";\n        auth_basic_user_file {root}/htpasswd;'
            )
        site = (
            SITE.replace("PROXY_PORT", str(self.port))
            .replace("TUTOR_PORT", str(tutor_port))
            .replace("AUTH", site_auth)
        )
        # as root, nginx's workers would run as "nobody", who cannot read tmp_path
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
        temp = "\n".join(
            f"    {kind}_temp_path {root}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (root / "nginx.conf").write_text(
            f"{user}\nworker_processes 1;\npid {root}/nginx.pid;\n"
            f"error_log {root}/error.log info;\nevents {{ worker_connections 64; }}\n"
            f"http {{\n    access_log {root}/access.log;\n{temp}\n{site}\n}}\n"
        )
        self.proc = subprocess.Popen(
            [
                self.binary,
                "-p",
                str(root),
                "-c",
                str(root / "nginx.conf"),
                "-e",
                str(root / "error.log"),
                "-g",
                "daemon off;",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its workers go with it
        )
        end = time.monotonic() + 15
        while time.monotonic() < end:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                pytest.fail("nginx did not start: " + self.proc.stderr.read().decode())
            time.sleep(0.05)
        self.stop()
        pytest.fail("nginx did not listen within 15 s")

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tutor"

    def stop(self) -> None:
        stop(self.proc, group=True)


@pytest.fixture
def behind_nginx(tmp_path, request):
    """The tutor served behind nginx: (server, nginx); ``request.param`` is the extra
    arguments of `tutor serve` and whether nginx asks for a password."""
    args, auth = request.param
    tutor_port = free_port()
    nginx = Nginx(tmp_path / "nginx", tutor_port, auth=("alice", "s3cret") if auth else None)
    try:
        served = start_serve(
            tmp_path, "--public-url", nginx.public_url + "/", *args, port=tutor_port
        )
    except BaseException:
        nginx.stop()
        raise
    yield served, nginx
    left = stop_serve(served)
    nginx.stop()
    assert left == [], "tutors outlived their server"


@pytest.mark.parametrize("behind_nginx", [((), False)], indirect=True)
def test_the_tutor_works_through_nginx_with_its_token(behind_nginx):
    served, nginx = behind_nginx
    assert served.url == f"{nginx.public_url}/?token={served.token}"

    async def learner() -> dict:
        async with aiohttp.ClientSession() as http:
            async with http.get(served.url) as page:
                assert page.status == 200, await page.text()
                html = await page.text()
            ws = f"ws://127.0.0.1:{nginx.port}/tutor/ws/{served.token}"
            assert f'data-session-websocket-url="{ws}"' in html
            assert f'src="{nginx.public_url}/static/js/textual.js"' in html
            async with http.get(f"{nginx.public_url}/static/js/textual.js") as script:
                assert script.status == 200
            async with http.get(f"{nginx.public_url}/") as page:
                assert page.status == 403  # the proxy does not make the token optional
            origin = f"http://127.0.0.1:{nginx.port}"
            return await answer_first_step(http, ws, served.data, origin=origin)

    state = asyncio.run(learner())
    assert state["lessons"]["sigmoid-2-2-2"]["steps"]["sum_h1"]["status"] == "correct"
    end = time.monotonic() + 10  # nginx logs a WebSocket once both ends have closed it
    while "GET /tutor/ws/" not in (nginx.root / "access.log").read_text():
        assert time.monotonic() < end, "the WebSocket did not go through nginx"
        time.sleep(0.05)


@pytest.mark.parametrize("behind_nginx", [(("--no-token",), True)], indirect=True)
def test_behind_an_authenticating_nginx_without_a_token(behind_nginx):
    served, nginx = behind_nginx
    assert served.token is None and served.url == f"{nginx.public_url}/"

    async def learner() -> dict:
        async with aiohttp.ClientSession() as http:
            async with http.get(served.url) as page:
                assert page.status == 401  # nginx asks who it is
            headers = {"Authorization": "Basic " + base64.b64encode(b"alice:s3cret").decode()}
            async with http.get(served.url, headers=headers) as page:
                assert page.status == 200
                assert f'"ws://127.0.0.1:{nginx.port}/tutor/ws"' in await page.text()
            ws = f"ws://127.0.0.1:{nginx.port}/tutor/ws"
            try:  # the Origin is still checked
                async with http.ws_connect(
                    ws, headers={**headers, "Origin": "http://evil.example"}
                ):
                    raise AssertionError("a WebSocket from another site got through")
            except aiohttp.WSServerHandshakeError as err:
                assert err.status == 403
            origin = f"http://127.0.0.1:{nginx.port}"
            return await answer_first_step(http, ws, served.data, origin=origin, headers=headers)

    state = asyncio.run(learner())
    assert state["lessons"]["sigmoid-2-2-2"]["steps"]["sum_h1"]["status"] == "correct"
