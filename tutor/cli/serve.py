"""`tutor serve`: textual-serve with the checks a server for one learner needs.

textual-serve answers any Host header, accepts a WebSocket from any Origin and has no login,
so a page the learner happens to visit (a cross-site WebSocket, DNS rebinding) or another
user of a shared host could drive the tutor as that learner. `TutorServer` adds what
notebook servers do: a secret token in the URL it prints, a Host check on every request and
an Origin check on the WebSocket. Each refusal is a 403 with one plain-text line.

textual-serve also builds the page's URLs from ``public_url`` (``ws://127.0.0.1:8000/ws``);
``--public-url`` gives the address browsers really use, so the page works behind a reverse
proxy, under a path of its own too.

Imported only by ``tutor serve``: it needs aiohttp and textual-serve (the ``[web]`` extra),
and never Textual (the tutor itself runs in a child process per browser tab).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from tutor.cli.common import CliError, one_line

log = logging.getLogger("tutor.serve")

#: the names of this host's loopback address, which a browser on this host may use
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
TOKEN_HELP = "open the address that 'tutor serve' printed when it started (it ends in ?token=...)"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def parse_public_url(text: str) -> str:
    """``--public-url``: an http(s) address with a host, no query or fragment; returned
    without its trailing slash, since textual-serve appends paths that start with one."""
    try:
        parts = urlsplit(text.strip())
        _ = parts.port  # raises ValueError for a port that is no number
    except ValueError as err:
        raise CliError(f"--public-url: {err}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(
            f"--public-url must be an http:// or https:// address with a host name, "
            f"such as https://lab.example.org/tutor (not {one_line(text)!r})"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise CliError("--public-url takes no query, fragment or user name")
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def url_host(host: str) -> str:
    """A host as it is written in a URL: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host else host


def is_wildcard(host: str) -> bool:
    """0.0.0.0 or :: (every address): no name a browser could use."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


Origin = tuple[str, str, int]  # scheme, host name, port


def origin_of(url: str) -> Origin | None:
    """An Origin header or URL as (scheme, host, port), the default port filled in; None for
    ``null`` or anything unreadable."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    scheme = parts.scheme.lower()
    if not host or scheme not in DEFAULT_PORTS:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


def host_name(header: str) -> str | None:
    """The name in a Host header (``127.0.0.1:8000``, ``[::1]:8000``, ``lab.example.org``)."""
    try:
        name = urlsplit("//" + header.strip()).hostname
    except ValueError:
        return None
    return name.rstrip(".") if name else None


@dataclass(frozen=True)
class Gate:
    """Who may use the server.

    ``hosts`` are the names it answers to: DNS rebinding brings a foreign name (the
    attacker's) to our address, so checking the name is enough and ports do not matter.
    ``origins`` are the pages whose WebSockets are accepted, ports included: a page served
    on another port of 127.0.0.1 is another site's page. ``token`` is None when a reverse
    proxy in front authenticates users (``--no-token``).
    """

    hosts: frozenset[str]
    origins: frozenset[Origin]
    token: str | None

    @classmethod
    def for_server(cls, host: str, port: int, public_url: str, token: str | None) -> Gate:
        """The bound address (and this host's loopback names if it is a loopback address)
        and the public URL's host."""
        names = {host.lower()} | (set(LOOPBACK_NAMES) if is_loopback(host) else set())
        origins = {("http", name, port) for name in names}
        public = origin_of(public_url)
        if public is not None:
            names.add(public[1])
            origins.add(public)
        return cls(frozenset(names), frozenset(origins), token)

    def refusal(
        self, *, path: str, host: str, origin: str | None, token: str | None, websocket: bool
    ) -> str | None:
        """Why this request is refused, in one line for the person who sent it; None: it may
        go on. The static files (the page's script and styles, the same for everyone) need
        no token, every other path does."""
        name = host_name(host)
        if name is None or name.lower() not in self.hosts:
            return (
                f"Forbidden: this server does not answer to the host name {one_line(host)!r}. "
                "Behind a reverse proxy, give the address browsers use with --public-url."
            )
        if websocket and origin is not None:
            # Browsers always send Origin on a WebSocket; a script outside a browser can
            # forge it anyway, which is what the token is for.
            seen = origin_of(origin)
            if seen is None or (seen[0].lower(), seen[1].lower(), seen[2]) not in self.origins:
                return f"Forbidden: a WebSocket from another site ({one_line(origin)!r})."
        if self.token is not None and not path.startswith("/static/"):
            given = (token or "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, self.token.encode()):
                return f"Forbidden: wrong or missing token; {TOKEN_HELP}."
        return None


class TutorServer(Server):
    """textual-serve's server behind a `Gate`, with the token carried into the page's
    WebSocket URL and the address to open printed at start."""

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        public_url: str | None,
        token: str | None,
    ) -> None:
        public = public_url or f"http://{url_host(host)}:{port}"
        super().__init__(command, host=host, port=port, title="backprop-tutor", public_url=public)
        self.gate = Gate.for_server(host, port, public, token)
        self.sockets: set[web.WebSocketResponse] = set()

    def initialize_logging(self) -> None:
        """textual-serve's log, which names every request's path: without the token."""
        super().initialize_logging()
        token = self.gate.token
        if token is None:
            return

        def scrub(record: logging.LogRecord) -> bool:
            message = record.getMessage()
            if token in message:
                record.msg, record.args = message.replace(token, "<token>"), None
            return True

        for handler in logging.getLogger().handlers:
            handler.addFilter(scrub)

    def start_url(self) -> str:
        """The address the learner opens."""
        return f"{self.public_url}/" + (f"?token={self.gate.token}" if self.gate.token else "")

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        # textual.js adds its own "?width=..&height=.." to the WebSocket URL, so the page
        # carries the token in the path rather than in a query.
        app.router.add_get("/ws/{token}", self.handle_websocket, name="websocket-token")
        app.middlewares.append(self.guard)
        return app

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse what the gate refuses, before any handler (and any tutor process) runs."""
        websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        reason = self.gate.refusal(
            path=request.path,
            host=request.headers.get("Host", ""),
            origin=request.headers.get("Origin"),
            token=request.match_info.get("token") or request.query.get("token"),
            websocket=websocket,
        )
        if reason is not None:
            log.warning("refused %s %s: %s", request.method, request.path, reason)
            return web.Response(
                status=403,
                text=reason + "\n",
                headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
            )
        response = await handler(request)
        if not websocket and not request.path.startswith("/static/"):
            # the page holds the token: keep it out of caches and of other sites' logs
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def handle_index(self, request: web.Request) -> web.Response:
        """textual-serve's page, whose WebSocket URL carries the token."""
        websocket = f"{self.public_url}/ws" + (f"/{self.gate.token}" if self.gate.token else "")
        scheme, rest = websocket.split(":", 1)
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": ("wss:" if scheme == "https" else "ws:") + rest,
            "config": {"static": {"url": f"{self.public_url}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        """textual-serve's loop over one tab's messages, with the tab's socket known for
        `on_shutdown`."""
        self.sockets.add(websocket)
        try:
            await super()._process_messages(websocket, app_service)
        finally:
            self.sockets.discard(websocket)

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every tab's socket, so each tutor is told to quit (and saves) at once.
        Otherwise Ctrl+C waits, about 20 s, for aiohttp to give up on the open sockets, and a
        server killed meanwhile leaves its tutors running, holding the learner's lock."""
        for websocket in list(self.sockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")

    async def on_startup(self, app: web.Application) -> None:
        """Print where to go (the token is the password), instead of textual-serve's logo."""
        print(f"backprop-tutor is being served on {url_host(self.host)}:{self.port}.", flush=True)
        if self.gate.token:
            print(f"Open this address in your browser:\n\n    {self.start_url()}\n", flush=True)
        else:
            print(
                f"No token (--no-token): the reverse proxy in front must authenticate users.\n"
                f"Open {self.start_url()}",
                flush=True,
            )
        print("Press Ctrl+C to stop the server.", flush=True)


def make_server(
    command: str, host: str, port: int, public_url: str | None, token_required: bool
) -> TutorServer:
    """The server `tutor serve` runs; refuses settings that could not work or be safe."""
    if public_url is not None:
        public_url = parse_public_url(public_url)
    elif is_wildcard(host):
        raise CliError(
            f"--host {host} listens on every address, and the page needs the one browsers "
            "use: give it with --public-url (e.g. http://labhost:8000)"
        )
    if not token_required and public_url is None:
        raise CliError(
            "--no-token is for use behind a reverse proxy that authenticates users: "
            "give the proxy's address with --public-url"
        )
    token = secrets.token_urlsafe(32) if token_required else None
    return TutorServer(command, host=host, port=port, public_url=public_url, token=token)
