"""What every command shares: one-line errors, exit codes and argument types. Kept light:
``tutor --help`` imports nothing more."""

from __future__ import annotations

import argparse
import os

#: 0: all well. 1: the command did its work and reported problems in what it read (wrong
#: answers or unknown step names in a worksheet, an invalid lesson). 2: it could not do its
#: work (bad arguments, an unreadable file): one line on stderr, nothing on stdout.
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
LESSON_HELP = "a lesson id (see 'tutor list') or a path to a .toml lesson file"


class CliError(Exception):
    """A one-line error for the user; the command exits 2."""


def seed_number(text: str) -> int:
    """--seed: a whole number from 0 (NumPy's seeds are non-negative)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def one_line(text: str, width: int = 60) -> str:
    """Text from a file, as one line of printable characters."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return clean if len(clean) <= width else clean[: width - 1] + "…"


def write_private(out: str, text: str) -> None:
    """Write an export to ``out``, created 0600: results are personal, like the progress
    folder. A file that cannot be written is a :class:`CliError`."""
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as err:
        raise CliError(f"{out}: cannot be written ({err.strerror})") from None
