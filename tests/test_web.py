"""`tutor serve`: the page is served on localhost and a websocket session answers a step."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import pytest

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("textual_serve")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {**os.environ, "TUTOR_DATA_DIR": str(tmp_path / "data"), "TUTOR_NO_BLINK": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tutor", "serve", "--port", str(port), "sigmoid-2-2-2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    end = time.monotonic() + 20
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None:
            pytest.fail("tutor serve exited: " + proc.stderr.read().decode())
        time.sleep(0.1)
    yield {"port": port, "data": tmp_path / "data"}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


async def _session(port: int, data) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200
            html = await page.text()
            assert "backprop-tutor" in html and "/ws" in html
        async with http.ws_connect(f"ws://127.0.0.1:{port}/ws?width=80&height=24") as ws:
            received = 0
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and received < 3:  # wait for the first paint
                try:
                    await asyncio.wait_for(ws.receive(), timeout=1)
                    received += 1
                except TimeoutError:
                    pass
            await asyncio.sleep(1.0)
            await ws.send_json(["stdin", "0.41\r"])
            state_file = data / "state.json"
            while time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(ws.receive(), timeout=0.2)
                except TimeoutError:
                    pass
                if state_file.exists():
                    return json.loads(state_file.read_text())
            raise AssertionError("the answer never reached the progress store")


def test_served_page_and_websocket_session_answer_a_step(server):
    state = asyncio.run(_session(server["port"], server["data"]))
    assert state["lessons"]["sigmoid-2-2-2"]["steps"]["sum_h1"]["status"] == "correct"


def test_serve_binds_to_localhost_by_default():
    from tutor.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
