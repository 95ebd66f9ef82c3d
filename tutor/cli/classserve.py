"""`tutor class serve DIR`: the class's SSH server (tutor.classserver), started here with one
clear line for whatever stops it before it listens."""

from __future__ import annotations

import argparse
import errno
from pathlib import Path

from tutor.cli.common import EXIT_OK, CliError


def add_serve_parser(group: argparse._SubParsersAction) -> None:
    """`serve`, in the `tutor class` group."""
    p = group.add_parser(
        "serve",
        help="serve the class over SSH",
        description="Serve the course in DIR over SSH (pip install 'backprop-tutor[class]'): "
        "students log in with the keys of the roster and get the tutor, their results "
        "kept in the class database. Stops on Ctrl+C or SIGTERM. See docs/class-server.md.",
    )
    p.add_argument("folder", metavar="DIR", help="the course folder ('tutor class init DIR')")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=2222, help="the port to listen on (2222)")
    p.add_argument(
        "--keepalive",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="seconds of silence before a keepalive; a link that has not answered it as long "
        "again is dead (20: found within 40 s)",
    )
    p.add_argument(
        "--max-logins",
        type=int,
        default=50,
        metavar="N",
        help="logins in progress at once (not yet authenticated); more are turned away (50)",
    )


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from tutor.classserver.server import serve
    except ImportError as err:
        raise CliError(
            f"the class server needs asyncssh ({err.name} is missing): "
            "pip install 'backprop-tutor[class]'"
        ) from None
    from tutor.classroom.tomlfile import CourseError

    if not 0 < args.port < 65536:
        raise CliError(f"--port {args.port}: must be between 1 and 65535")
    if args.keepalive <= 0 or args.max_logins < 1:
        raise CliError("--keepalive and --max-logins must be more than 0")
    try:
        return serve(Path(args.folder), args.host, args.port, args.keepalive, args.max_logins)
    except CourseError as err:
        raise CliError(str(err)) from None
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise CliError(f"{args.host}:{args.port}: the port is already in use") from None
        if err.errno == errno.EACCES:
            raise CliError(f"{args.host}:{args.port}: not allowed to listen there") from None
        raise CliError(f"cannot serve the class: {err.strerror or err}") from None
    return EXIT_OK
