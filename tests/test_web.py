"""`tutor serve`: the page and its WebSocket, for the learner who has the printed address and
for nobody else (another site's page, a foreign Host name, a missing token)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from conftest import LESSONS
from webhelpers import answer_first_step, receive_until, start_serve, stop_serve, tutor_processes

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("textual_serve")

from tutor.cli import build_parser, main  # noqa: E402
from tutor.cli.serve import Gate, make_server, parse_public_url  # noqa: E402


@pytest.fixture
def server(tmp_path):
    served = start_serve(tmp_path)
    yield served
    assert stop_serve(served) == [], "tutors outlived their server"


def test_the_printed_address_holds_a_token_and_the_page_carries_it(server):
    assert server.token and len(server.token) >= 40
    assert server.url == f"http://127.0.0.1:{server.port}/?token={server.token}"

    async def fetch() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url) as page:
                assert page.status == 200
                assert page.headers["Cache-Control"] == "no-store"
                assert page.headers["Referrer-Policy"] == "no-referrer"
                html = await page.text()
            assert "backprop-tutor" in html
            assert f'data-session-websocket-url="{server.ws_url()}"' in html
            # the script and styles need no token: they are the same for everyone
            async with http.get(f"{server.origin}/static/js/textual.js") as script:
                assert script.status == 200

    asyncio.run(fetch())


def test_served_page_and_websocket_session_answer_a_step(server):
    async def session() -> dict:
        async with aiohttp.ClientSession() as http:
            return await answer_first_step(http, server.ws_url(), server.data, origin=server.origin)

    state = asyncio.run(session())
    assert state["lessons"]["sigmoid-2-2-2"]["steps"]["sum_h1"]["status"] == "correct"


async def _status(http, url: str, headers: dict | None = None) -> tuple[int, str]:
    async with http.get(url, headers=headers or {}) as response:
        return response.status, await response.text()


async def _websocket_status(http, url: str, headers: dict | None = None) -> tuple[int, str]:
    try:
        async with http.ws_connect(url, headers=headers or {}):
            return 101, ""
    except aiohttp.WSServerHandshakeError as err:
        return err.status, err.message


def test_a_lesson_path_with_spaces_and_shell_characters_is_served(tmp_path):
    folder = tmp_path / "week 3; $(touch pwned)"
    folder.mkdir()
    lesson = folder / "sigmoid-2-2-2.toml"
    lesson.write_text((LESSONS / "sigmoid-2-2-2.toml").read_text())
    served = start_serve(tmp_path, lesson=str(lesson))

    async def session() -> dict:
        async with aiohttp.ClientSession() as http:
            return await answer_first_step(http, served.ws_url(), served.data)

    try:
        state = asyncio.run(session())
    finally:
        assert stop_serve(served) == []
    assert state["lessons"]["sigmoid-2-2-2"]["steps"]["sum_h1"]["status"] == "correct"
    assert not list(tmp_path.rglob("pwned")) and not (Path.cwd() / "pwned").exists()


def test_nobody_without_the_token_gets_in(server):
    wrong = ("y" if server.token[0] == "x" else "x") + server.token[1:]  # one letter off

    async def probe() -> None:
        async with aiohttp.ClientSession() as http:
            for url in (f"{server.origin}/", f"{server.origin}/?token={wrong}"):
                status, text = await _status(http, url)
                assert status == 403 and "token" in text, (url, status, text)
            for url in (
                f"ws://127.0.0.1:{server.port}/ws",
                f"ws://127.0.0.1:{server.port}/ws/{wrong}",
                f"ws://127.0.0.1:{server.port}/ws?token=",
            ):
                status, _ = await _websocket_status(http, url)
                assert status == 403, url
            # a script outside a browser may give the token as a query
            good = f"ws://127.0.0.1:{server.port}/ws?token={server.token}"
            assert (await _websocket_status(http, good))[0] == 101

    asyncio.run(probe())
    log = server.output()
    assert "refused GET /ws" in log
    assert log.count(server.token) == 1, "the log names the token beyond the address to open"


def test_a_websocket_from_another_sites_page_is_refused_even_with_the_token(server):
    async def probe() -> None:
        async with aiohttp.ClientSession() as http:
            for origin in (
                "http://evil.example",
                f"http://127.0.0.1:{server.port + 1}",  # another server on this host
                f"https://127.0.0.1:{server.port}",
                "null",
            ):
                status, _ = await _websocket_status(http, server.ws_url(), {"Origin": origin})
                assert status == 403, origin
            for origin in (server.origin, f"http://localhost:{server.port}"):
                status, _ = await _websocket_status(http, server.ws_url(), {"Origin": origin})
                assert status == 101, origin

    asyncio.run(probe())


def test_a_foreign_host_name_is_refused_dns_rebinding(server):
    async def probe() -> None:
        async with aiohttp.ClientSession() as http:
            rebound = {"Host": f"evil.example:{server.port}"}
            status, text = await _status(http, server.url, rebound)
            assert status == 403 and "evil.example" in text
            status, _ = await _websocket_status(
                http, server.ws_url(), {**rebound, "Origin": f"http://evil.example:{server.port}"}
            )
            assert status == 403
            local = {"Host": f"localhost:{server.port}"}
            assert (await _status(http, server.url, local))[0] == 200

    asyncio.run(probe())


def test_a_second_tab_is_told_why_on_its_page(server):
    async def two_tabs() -> str:
        async with aiohttp.ClientSession() as http:
            url = server.ws_url() + "?width=100&height=30"
            headers = {"Origin": server.origin}
            async with http.ws_connect(url, headers=headers) as first:
                await receive_until(first, "sum_h1 =", bytearray())
                async with http.ws_connect(url, headers=headers) as second:
                    return await receive_until(second, "Reload this page", bytearray())

    text = asyncio.run(two_tabs())
    assert "another tutor session of yours is already open" in text


def test_stopping_the_server_stops_its_tutors_at_once(server):
    async def open_tab_and_stop() -> float:
        async with aiohttp.ClientSession() as http:
            url = server.ws_url() + "?width=100&height=30"
            async with http.ws_connect(url) as tab:
                await receive_until(tab, "sum_h1 =", bytearray())
                start = time.monotonic()
                server.proc.terminate()  # Ctrl+C or SIGTERM
                await receive_until(tab, "never", bytearray(), timeout=15, until_closed=True)
                return time.monotonic() - start

    assert asyncio.run(open_tab_and_stop()) < 5
    assert server.proc.wait(timeout=10) == 0


def test_a_killed_servers_tutors_quit_and_free_the_learner(tmp_path):
    served = start_serve(tmp_path)
    try:

        async def open_tab_and_kill() -> None:
            async with aiohttp.ClientSession() as http:
                url = served.ws_url() + "?width=100&height=30"
                async with http.ws_connect(url) as tab:
                    await receive_until(tab, "sum_h1 =", bytearray())
                    assert tutor_processes(served.data)
                    os.kill(served.proc.pid, signal.SIGKILL)  # no "quit" for its tutors

        asyncio.run(open_tab_and_kill())
        served.proc.wait(timeout=10)
        end = time.monotonic() + 15
        while tutor_processes(served.data):
            assert time.monotonic() < end, "a tutor outlived its killed server"
            time.sleep(0.1)
    finally:
        stop_serve(served)
    again = start_serve(tmp_path)  # the session lock is free again: a new tab works

    async def session() -> dict:
        async with aiohttp.ClientSession() as http:
            return await answer_first_step(http, again.ws_url(), again.data)

    try:
        state = asyncio.run(session())
    finally:
        assert stop_serve(again) == []
    assert state["lessons"]["sigmoid-2-2-2"]["steps"]["sum_h1"]["status"] == "correct"


def test_serve_binds_to_localhost_by_default():
    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1" and args.token is True and args.public_url is None


@pytest.mark.parametrize(
    "argv, says",
    [
        (["serve", "--no-token"], "--no-token is for use behind a reverse proxy"),
        (["serve", "--host", "0.0.0.0"], "give it with --public-url"),
        (["serve", "--public-url", "ftp://lab.example.org"], "http:// or https://"),
        (["serve", "--public-url", "https://lab.example.org/?a=1"], "no query"),
        (["serve", "--public-url", "http://lab:99999"], "--public-url"),
    ],
)
def test_settings_that_cannot_work_are_refused(argv, says, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("tutor: ") and says in err and err.count("\n") == 1


def test_the_public_url_sets_the_page_addresses_and_the_accepted_host():
    assert parse_public_url("https://Lab.example.org/tutor/") == "https://Lab.example.org/tutor"
    server = make_server("true", "127.0.0.1", 8000, "https://lab.example.org/tutor/", True)
    assert server.public_url == "https://lab.example.org/tutor"
    assert server.start_url() == f"https://lab.example.org/tutor/?token={server.gate.token}"
    gate = server.gate
    ok = dict(path="/ws", origin="https://lab.example.org", token=gate.token, websocket=True)
    assert gate.refusal(host="lab.example.org", **ok) is None
    assert gate.refusal(host="127.0.0.1:8000", **ok) is None  # nginx's default Host
    assert gate.refusal(host="LAB.example.org.", **ok) is None
    assert "host name" in gate.refusal(host="evil.example", **ok)
    assert "another site" in gate.refusal(
        host="lab.example.org", **{**ok, "origin": "http://lab.example.org"}
    )


def test_without_a_token_only_host_and_origin_are_checked():
    gate = Gate.for_server("127.0.0.1", 8000, "https://lab.example.org", None)
    assert (
        gate.refusal(path="/", host="lab.example.org", origin=None, token=None, websocket=False)
        is None
    )
    assert gate.refusal(path="/ws", host="evil.example", origin=None, token=None, websocket=True)
