"""Start the interactive tutor: check the terminal, load the lesson, hold the progress lock.

Everything that can go wrong before the interface starts (no TTY, a bad lesson file, a second
session) ends here with one clear line and exit code 2, never a traceback or escape codes.
"""

from __future__ import annotations

import argparse
import os
import sys

from tutor.locations import DEFAULT_LESSON


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
        choices=("learn", "drill", "exam", "review"),
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


def seed_number(text: str) -> int:
    """--seed: a whole number from 0 (NumPy's seeds are non-negative)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def launch(argv: list[str]) -> int:
    from tutor.cli import CliError, load
    from tutor.lesson import NO_VARIANTS
    from tutor.progress import ProgressLocked, ProgressStore
    from tutor.textmode import wants_ascii

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.seed is not None and not args.lesson:
        parser.error("--seed needs a LESSON")
    try:
        lesson = load(args.lesson) if args.lesson else None
        if lesson is not None and args.seed is not None and lesson.variants is None:
            # refused before starting; the variant itself is drawn by the engine process,
            # so that NumPy is not loaded here (see tutor.engine_process)
            raise CliError(NO_VARIANTS.format(id=lesson.id))
    except CliError as err:
        print(f"tutor: {err}", file=sys.stderr)
        return 2
    served = "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")  # tutor serve: no TTY needed
    if not served and not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(
            "tutor: the interactive tutor needs a terminal; without one, use 'tutor solve "
            "LESSON' or 'tutor grade LESSON ANSWERS'.",
            file=sys.stderr,
        )
        return 2
    store = ProgressStore()
    try:
        store.lock()
    except ProgressLocked as err:
        print(f"tutor: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(
            f"tutor: cannot use the progress folder {store.root}: {err.strerror}", file=sys.stderr
        )
        return 2
    try:
        store.state()  # read (and repair) before the interface starts
        from tutor.app import TutorApp

        app = TutorApp(
            lesson,
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
    return 0
