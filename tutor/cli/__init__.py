"""The ``tutor`` command line: the parser and the dispatch to each command group
(``lessons``, ``progress``, ``interactive``). Commands other than the app never import
Textual."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from tutor import __version__
from tutor.cli.common import EXIT_OK, EXIT_USAGE, LESSON_HELP, CliError, seed_number
from tutor.textmode import visible


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``only``, with that command's arguments alone. Making
    every command's parser takes longer than the ``tutor solve`` it would parse (argparse
    looks up its messages' translations for each one)."""
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Step through one forward pass and one backpropagation step by hand.",
        epilog="Run 'tutor LESSON' to open a lesson in the app, or 'tutor COMMAND --help'.",
    )
    parser.add_argument("--version", action="version", version=f"backprop-tutor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (texts, add_arguments) in SUBCOMMANDS.items():
        if only is None or name == only:
            add_arguments(
                sub.add_parser(name, help=texts["help"], description=texts["description"])
            )
    return parser


def _list_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("table", "json"), default="table")


def _validate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="lesson files, folders or lesson ids")


def _solve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lesson", metavar="LESSON", help=LESSON_HELP)
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--ascii", action="store_true", help="plain ASCII (text format only)")
    p.add_argument("--seed", type=seed_number, metavar="N", help="the variant drawn with seed N")


def _grade_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lesson", metavar="LESSON", help=LESSON_HELP)
    p.add_argument("answers", metavar="ANSWERS", help="a .json or .csv file of answers")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--seed", type=seed_number, metavar="N", help="grade against the variant of seed N"
    )


def _check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("targets", nargs="*", metavar="LESSON|DIR", help="default: every known lesson")


def _progress_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lesson", nargs="?", metavar="LESSON", help="only this lesson")
    p.add_argument("--format", choices=("table", "json"), default="table")


def _reset_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lesson", nargs="?", metavar="LESSON")
    p.add_argument("--all", action="store_true", help="every lesson")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    p.add_argument("--attempts", action="store_true", help="CSV of the attempt log")


def _serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="the port to listen on (8000)")
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers open when a reverse proxy forwards to this server "
        "(e.g. https://lab.example.org/tutor); the page's links and WebSocket use it, and "
        "its host is accepted",
    )
    p.add_argument(
        "--no-token",
        dest="token",
        action="store_false",
        help="no secret token in the URL: only behind a reverse proxy that authenticates "
        "users itself (needs --public-url; Host and Origin are still checked)",
    )
    p.add_argument("lesson", nargs="?", metavar="LESSON")


def _class_arguments(p: argparse.ArgumentParser) -> None:
    from tutor.cli.classroom import add_arguments
    from tutor.cli.classserve import add_serve_parser

    add_serve_parser(add_arguments(p))


# each command: its help texts, and what adds its arguments
SUBCOMMANDS: dict[str, tuple[dict[str, str], Callable[[argparse.ArgumentParser], None]]] = {
    "list": (
        dict(
            help="list the available lessons",
            description="List the built-in "
            "lessons and those in the folders of TUTOR_LESSONS_PATH, in course order.",
        ),
        _list_arguments,
    ),
    "validate": (
        dict(
            help="check lesson files",
            description="Check lesson files. "
            "Prints one line per problem as FILE: where: what and exits 1 if any; "
            "exits 0 when every file is valid.",
        ),
        _validate_arguments,
    ),
    "solve": (
        dict(
            help="print the worked solution",
            description="Print the "
            "complete worked solution of a lesson: each step's formula, the numbers "
            "substituted and the value.",
        ),
        _solve_arguments,
    ),
    "grade": (
        dict(
            help="grade a worksheet of answers",
            description='Grade a whole worksheet. ANSWERS is JSON ({"step": answer}) or CSV '
            "(step,answer); a step is named by its id (dE_total/dw5) or by the label the tutor "
            "shows for it. Exits 0 when every answered step is correct or carried, 1 when one "
            "is not or a name is no step (the rest are still graded), 2 on bad input.",
        ),
        _grade_arguments,
    ),
    "check": (
        dict(
            help="self-test lessons (for authors)",
            description="For every step of every lesson: the right answer is accepted, a perturbed "
            "one rejected, garbage refused, and every known mistake distinguishable from the right "
            "value. Exits 1 on any failure; coinciding mistakes are warnings.",
        ),
        _check_arguments,
    ),
    "progress": (
        dict(
            help="show your progress",
            description="Your progress per lesson (and variant and mode).",
        ),
        _progress_arguments,
    ),
    "reset": (
        dict(
            help="forget progress",
            description="Forget your progress on a lesson, or on all lessons. "
            "The attempt log keeps a record that you reset.",
        ),
        _reset_arguments,
    ),
    "export": (
        dict(
            help="export results for a gradebook",
            description="Export your per-lesson scores and attempt log. JSON holds "
            "both; CSV holds the scores, or the attempt log with --attempts.",
        ),
        _export_arguments,
    ),
    "serve": (
        dict(
            help="serve the tutor in a web browser",
            description="Serve the tutor through textual-serve (pip install "
            "'backprop-tutor[web]'). Binds to localhost unless --host is given, and prints "
            "the address to open: it holds a secret token, as notebook servers do. Requests "
            "for another host name, and WebSockets from another site's page, are refused.",
        ),
        _serve_arguments,
    ),
    "class": (
        dict(
            help="run a class: a course folder, its roster, results and gradebook",
            description="Set up and follow a class: the course folder (course.toml, "
            "roster.toml and the server's host key), its students, the SSH server and a "
            "gradebook from the class database. See docs/class.md.",
        ),
        _class_arguments,
    ),
}
COMMANDS = tuple(SUBCOMMANDS)


class OutputFailed(Exception):
    """Standard output could not be written (a full disk, /dev/full, a closed pipe)."""

    def __init__(self, err: OSError):
        super().__init__(str(err))
        self.err = err


class _Guarded:
    """Standard output for the commands, whose write errors are told apart from any other
    ``OSError``: the command's output could not be written, and nothing else went wrong."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as err:
            raise OutputFailed(err) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as err:
            raise OutputFailed(err) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if sys.stdout is None:  # started with standard output closed (tutor list >&-)
        print("tutor: standard output is closed; nothing can be shown", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args_list and args_list[0] in COMMANDS or not args_list or args_list[0].startswith("-"):
            if not args_list:
                return _run_app([])
            if args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version"):
                return _run_app(args_list)
            return _command(args_list)
        return _run_app(args_list)
    except CliError as err:
        print(f"tutor: {visible(str(err))}", file=sys.stderr)  # may quote an argument or a file
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _command(args_list: list[str]) -> int:
    """Run a command (not the app) with its output guarded and flushed here: output that
    cannot be written (``>/dev/full``, a full disk) is one line on stderr and exit 2, not
    a traceback or Python's complaint at exit; a reader that went away (``| head``) ends
    the command quietly."""
    real = sys.stdout
    sys.stdout = _Guarded(real)
    try:
        only = args_list[0] if args_list[0] in COMMANDS else None
        try:
            code = _dispatch(build_parser(only).parse_args(args_list))
        except SystemExit as stop:  # --help, --version and usage errors: flushed here too
            sys.stdout.flush()
            raise stop
        sys.stdout.flush()
        return code
    except OutputFailed as failed:
        _drop_output(real)
        if isinstance(failed.err, BrokenPipeError):
            return EXIT_OK
        why = (failed.err.strerror or str(failed.err)).lower()
        print(f"tutor: the output could not be written ({why})", file=sys.stderr)
        return EXIT_USAGE
    finally:
        sys.stdout = real


def _drop_output(stream: Any) -> None:
    """Send what is left of standard output to /dev/null, so that Python's own flush at
    exit does not fail again and print a second error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command. Its group is imported here, when one of its commands runs: ``tutor
    list`` and ``tutor --help`` need no engine (NumPy), and ``tutor LESSON`` must not load it
    before its first paint."""
    command = args.command
    if command == "list":
        from tutor.cli.listing import cmd_list

        return cmd_list(args.format)
    if command in ("validate", "solve", "grade", "check"):
        from tutor.cli import lessons

        if command == "validate":
            return lessons.cmd_validate(args.paths)
        if command == "solve":
            return lessons.cmd_solve(args.lesson, args.format, args.ascii, args.seed)
        if command == "grade":
            return lessons.cmd_grade(args.lesson, args.answers, args.format, args.seed)
        return lessons.cmd_check(args.targets)
    if command in ("progress", "reset", "export"):
        from tutor.cli import progress

        if command == "progress":
            return progress.cmd_progress(args.lesson, args.format)
        if command == "reset":
            return progress.cmd_reset(args.lesson, args.all, args.yes)
        return progress.cmd_export(args.format, args.out, args.attempts)
    if command == "class" and args.class_command == "watch":
        from tutor.cli.classwatch import cmd_watch  # the one class command with an interface

        return cmd_watch(args)
    if command == "serve":
        from tutor.cli.interactive import cmd_serve

        return cmd_serve(args.host, args.port, args.lesson, args.public_url, args.token)
    if command == "class":
        if args.class_command == "serve":
            from tutor.cli import classserve

            return classserve.cmd_serve(args)
        from tutor.cli.classroom import cmd_class

        return cmd_class(args)
    build_parser().print_help()
    return EXIT_USAGE


def _run_app(args_list: list[str]) -> int:
    from tutor.cli.interactive import launch

    return launch(args_list)
