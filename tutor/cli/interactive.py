"""Start the interactive tutor (in the terminal, or served to a browser).

Everything that can go wrong before the interface starts (no TTY, a bad lesson file, a second
session) ends here with one clear line and exit code 2, never a traceback or escape codes.
Textual is imported only once the interface is really starting.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from tutor.cli.common import EXIT_OK, EXIT_USAGE, CliError, one_line, seed_number
from tutor.cli.lookup import lesson
from tutor.lesson.model import NO_VARIANTS
from tutor.locations import DEFAULT_LESSON
from tutor.progress.interface import ProgressLocked
from tutor.progress.records import MODES
from tutor.progress.store import ProgressStore
from tutor.textmode import wants_ascii


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Open the interactive tutor (the lesson picker, or LESSON directly).",
        epilog="Other commands: tutor list | validate | solve | grade | check (see tutor --help).",
    )
    parser.add_argument(
        "lesson",
        nargs="?",
        metavar="LESSON",
        help=f"a lesson id or .toml file (e.g. {DEFAULT_LESSON})",
    )
    parser.add_argument("--restart", action="store_true", help="start the lesson over")
    parser.add_argument(
        "--ascii",
        action="store_true",
        help="plain ASCII drawing (automatic under TERM=linux or dumb)",
    )
    parser.add_argument("--no-blink", action="store_true", help="a steady cursor")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=None,
        help="learn (default), drill (a few steps of a fresh variant), exam "
        "(no help, limited attempts) or review (read the worked solution)",
    )
    parser.add_argument(
        "--seed",
        type=seed_number,
        metavar="N",
        help="the variant with seed N (drills draw a fresh one without it)",
    )
    return parser


def wants_blink(no_blink: bool) -> bool:
    """A blinking cursor writes to the terminal twice a second. Over SSH that keeps a dead
    link looking busy, so sshd's ClientAliveInterval never hangs it up: off over SSH."""
    if no_blink or os.environ.get("TUTOR_NO_BLINK"):
        return False
    return not (os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))


def served() -> bool:
    """Run by `tutor serve` for a browser tab (textual-serve sets Textual's web driver)."""
    return "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")


def show_on_page(message: str) -> None:
    """Write a refusal into the browser tab's terminal, and stay until the tab closes.

    Under `tutor serve` stderr reaches only the server's log, and the tab would show
    textual-serve's splash for ever. The page shows what the tutor writes after the line
    ``__GANGLION__``, in packets of a type byte (``D`` for data), a 4-byte length and the
    bytes: the protocol of Textual's web driver. Keys typed on the page come back the same
    way; they are read and dropped until the server says ``quit`` (the tab closed) or goes
    away, so nobody writes to a tutor that has gone."""
    text = (
        "\x1b[2J\x1b[H\r\n  "
        + one_line(message, width=1000)
        + "\r\n\r\n  Reload this page to try again.\r\n"
    )
    data = text.encode("utf-8")
    out = sys.stdout.buffer
    out.write(b"__GANGLION__\n" + b"D" + len(data).to_bytes(4, "big") + data)
    out.flush()
    stdin = sys.stdin.buffer
    while len(head := stdin.read(5)) == 5:
        payload = stdin.read(int.from_bytes(head[1:], "big"))
        if head[:1] == b"M" and b'"quit"' in payload:
            break


def refuse(message: str) -> int:
    """Everything that stops the tutor before its interface starts: one line on stderr (and
    on the page, in a browser tab), exit 2."""
    print(f"tutor: {message}", file=sys.stderr)
    if served():
        show_on_page(f"tutor: {message}")
    return EXIT_USAGE


def launch(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.seed is not None and not args.lesson:
        parser.error("--seed needs a LESSON")
    try:
        chosen = lesson(args.lesson) if args.lesson else None
        if chosen is not None and args.seed is not None and chosen.variants is None:
            raise CliError(NO_VARIANTS.format(id=chosen.id))  # refused before starting
    except CliError as err:
        return refuse(str(err))
    if not served() and not (sys.stdin.isatty() and sys.stdout.isatty()):
        return refuse(
            "the interactive tutor needs a terminal; without one, use 'tutor solve "
            "LESSON' or 'tutor grade LESSON ANSWERS'."
        )
    store = ProgressStore()
    try:
        store.lock()
    except ProgressLocked as err:
        return refuse(str(err))
    except OSError as err:
        return refuse(f"cannot use the progress folder {store.root}: {err.strerror}")
    try:
        store.state()  # read (and repair) before the interface starts
        if os.environ.get("TERM", "") in ("dumb", "unknown"):
            # Textual falls back to 24-bit colour when Rich finds no colour system (as for a
            # dumb terminal); ask for the 16 basic colours every terminal knows instead
            os.environ.setdefault("TEXTUAL_COLOR_SYSTEM", "standard")
        from tutor.ui.app import TutorApp

        app = TutorApp(
            chosen,
            restart=args.restart,
            ascii_only=args.ascii or wants_ascii(),
            blink=wants_blink(args.no_blink),
            store=store,
            mode=args.mode or "learn",
            seed=args.seed,
        )
        app.run()
    finally:
        store.flush()  # the log already has every answer; this brings the state file up to date
        store.unlock()
    if app.farewell and not served():  # a lesson was open: where it stopped, how to go on
        print(app.farewell)
    return EXIT_OK


def cmd_serve(
    host: str, port: int, ref: str | None, public_url: str | None = None, token: bool = True
) -> int:
    try:
        from tutor.cli.serve import make_server
    except ImportError:
        raise CliError(
            "the web front end needs textual-serve: pip install 'backprop-tutor[web]'"
        ) from None
    words = [sys.executable, "-m", "tutor"]
    if ref:
        lesson(ref)  # refuse a bad lesson before serving
        words.append(ref)
    # textual-serve runs the command through a shell: quote it
    make_server(shlex.join(words), host, port, public_url, token).serve()
    return EXIT_OK
