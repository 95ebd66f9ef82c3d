"""`tutor serve` as a learner uses it: Debian's chromium, headless, opens the printed address,
waits for the first prompt on the page, types an answer and reads the verdict there. A
second tab is told why it cannot start; a page from another origin, and a host name that
was rebound to 127.0.0.1, are refused.

The browser is driven over its DevTools protocol with aiohttp's WebSocket client, which
`tutor serve` already brings: no driver to install and no browser download, and every
command has its own timeout. The screen is read from xterm.js's buffer, the text the page
draws (on a canvas, so not in the DOM): a script installed before the page's own catches
textual.js's terminal object when it is made."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from webhelpers import free_port, need, start_serve, stop, stop_serve, wait_listening

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("textual_serve")

pytestmark = pytest.mark.slow  # a real browser

# textual.js keeps its terminal in an object whose constructor sets ``websocket_url`` first:
# a setter on Object.prototype sees that object, then steps aside.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "websocket_url", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "websocket_url",
      {value, writable: true, configurable: true, enumerable: true});
    window.__tutorTerminal = this;
  },
});
"""
SCREEN = """(() => {
  const term = window.__tutorTerminal && window.__tutorTerminal.terminal;
  if (!term) return "";
  const buffer = term.buffer.active, rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
})()"""


class Chromium:
    """A headless chromium of this test's own: its profile in ``root``, its DevTools on a
    port it picks and writes into the profile."""

    def __init__(self, root: Path, *flags: str):
        binary = need("chromium", "chromium")
        profile = root / "profile"
        profile.mkdir(parents=True)
        self.log = root / "chromium.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    binary,
                    "--headless",
                    "--no-sandbox",  # CI runs as root, where the sandbox cannot start
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-features=HttpsUpgrades",
                    "--window-size=1200,800",
                    f"--user-data-dir={profile}",
                    "--remote-debugging-address=127.0.0.1",
                    "--remote-debugging-port=0",
                    *flags,
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its helper processes go with it
            )
        active = profile / "DevToolsActivePort"
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if active.exists() and len(lines := active.read_text().split()) >= 2:
                self.endpoint = f"http://127.0.0.1:{lines[0]}"
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        pytest.fail("chromium did not start: " + self.log.read_text(errors="replace")[-2000:])

    def stop(self) -> None:
        stop(self.proc, group=True)


class Tab:
    """One browser tab, over its DevTools WebSocket."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future] = {}
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, http, browser: Chromium) -> Tab:
        async with http.put(f"{browser.endpoint}/json/new?about:blank") as response:
            target = await response.json(content_type=None)
        ws = await http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        tab = cls(ws)
        await tab.send("Page.enable")
        await tab.send("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)
        return tab

    async def _read(self) -> None:
        async for message in self.ws:
            reply = json.loads(message.data)
            future = self.waiting.pop(reply.get("id"), None)
            if future is not None and not future.done():
                future.set_result(reply)

    async def send(self, method: str, **params) -> dict:
        number = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.waiting[number] = future
        await self.ws.send_json({"id": number, "method": method, "params": params})
        reply = await asyncio.wait_for(future, timeout=30)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply["result"]

    async def evaluate(self, expression: str):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait_for(self, expression: str, wanted: str, timeout: float = 30) -> str:
        """Evaluate ``expression`` until its text holds ``wanted``; that text."""
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = await self.evaluate(expression) or ""
            if wanted in text:
                return text
            await asyncio.sleep(0.1)
        raise AssertionError(f"{wanted!r} never showed; the page shows:\n{text}")

    async def key(self, key: str, text: str, code: int = 0) -> None:
        down = {"key": key, "text": text, "unmodifiedText": text}
        if code:
            down |= {"code": key, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code}
        await self.send("Input.dispatchKeyEvent", type="keyDown", **down)
        await self.send("Input.dispatchKeyEvent", type="keyUp", key=key)

    async def type(self, text: str) -> None:
        for ch in text:
            await self.key(ch, ch)

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


@pytest.fixture
def browser(tmp_path, request):
    chromium = Chromium(tmp_path / "browser", *getattr(request, "param", ()))
    yield chromium
    chromium.stop()


@pytest.fixture
def served(tmp_path):
    server = start_serve(tmp_path)
    yield server
    assert stop_serve(server) == [], "tutors outlived their server"


def run(coroutine, timeout: float = 90):
    """One test's browser session, bounded in time."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def test_a_learner_answers_a_step_in_the_browser(served, browser):
    async def learner() -> tuple[str, str]:
        async with aiohttp.ClientSession() as http:
            tab = await Tab.open(http, browser)
            await tab.send("Page.navigate", url=served.url)
            await tab.wait_for(SCREEN, "sum_h1 =")
            await asyncio.sleep(0.5)  # the engine is prepared just after the first paint
            await tab.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
            await tab.type("0.41")
            await tab.key("Enter", "\r", 13)
            verdict = await tab.wait_for(SCREEN, "Correct")
            second = await Tab.open(http, browser)  # the same learner in a second tab
            await second.send("Page.navigate", url=served.url)
            refusal = await second.wait_for(SCREEN, "Reload this page")
            await second.close()
            await tab.close()
            return verdict, refusal

    verdict, refusal = run(learner())
    assert "Correct: sum_h1 = 0.41" in verdict
    assert "another tutor session of yours is already open" in refusal
    state = json.loads((served.data / "state.json").read_text())
    assert state["lessons"]["sigmoid-2-2-2"]["steps"]["sum_h1"]["status"] == "correct"


REBIND = "--host-resolver-rules=MAP evil.example 127.0.0.1"  # DNS rebinding, in the browser


@pytest.mark.parametrize("browser", [(REBIND,)], indirect=True)
def test_pages_from_elsewhere_are_refused(tmp_path, served, browser):
    site = tmp_path / "site"
    site.mkdir()
    # the worst case: the other page even knows the token
    (site / "index.html").write_text(
        "<script>\n"
        f"const ws = new WebSocket({served.ws_url() + '?width=80&height=24'!r});\n"
        "window.events = [];\n"
        "ws.onopen = () => window.events.push('open');\n"
        "ws.onclose = (e) => window.events.push('closed ' + e.code);\n"
        "</script>\n"
    )
    other_port = free_port()
    other = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(other_port)],
        cwd=site,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_listening(other_port, other)
    try:

        async def visitor() -> tuple[str, str]:
            async with aiohttp.ClientSession() as http:
                tab = await Tab.open(http, browser)
                await tab.send("Page.navigate", url=f"http://127.0.0.1:{other_port}/")
                events = await tab.wait_for("(window.events || []).join(',')", "closed")
                # DNS rebinding: a name of the attacker's that now points at 127.0.0.1
                rebound = served.url.replace("127.0.0.1", "evil.example")
                await tab.send("Page.navigate", url=rebound)
                page = await tab.wait_for(
                    "document.body ? document.body.innerText : ''", "Forbidden"
                )
                await tab.close()
                return events, page

        events, page = run(visitor())
    finally:
        stop(other)
    assert "open" not in events.split(",")
    assert "does not answer to the host name 'evil.example" in page
    log = served.output()
    assert "a WebSocket from another site ('http://127.0.0.1:" in log
    assert log.count(served.token) == 1  # the address printed at start, and nowhere else
    assert not (served.data / "state.json").exists()  # no tutor was started for them
