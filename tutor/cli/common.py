"""What the commands share: their one-line errors, exit codes and arguments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tutor.catalog import CannotOpen, open_lesson, read
from tutor.lesson.model import Lesson
from tutor.locations import LessonNotFound, resolve_lesson
from tutor.plan.steps import Plan
from tutor.progress.store import ProgressStore

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


def lesson(ref: str) -> Lesson:
    """The lesson ``ref`` names; any failure is one CliError."""
    try:
        return read(ref)
    except CannotOpen as err:
        raise CliError(str(err)) from None


def plan(ref: str, seed: int | None = None) -> Plan:
    """The plan of a lesson (its variant for ``seed``); any failure is one CliError."""
    try:
        return open_lesson(ref, seed)
    except CannotOpen as err:
        raise CliError(str(err)) from None


def lesson_files(refs: list[str]) -> list[tuple[Path, str]]:
    """Lesson files and ids from arguments: folders (every .toml), files and lesson ids."""
    files: list[tuple[Path, str]] = []
    for ref in refs:
        p = Path(ref)
        if p.is_dir():
            files += [(f, f.stem) for f in sorted(p.glob("*.toml"))]
            continue
        try:
            files.append(resolve_lesson(ref))
        except LessonNotFound as err:
            raise CliError(str(err)) from None
    return files


def store() -> ProgressStore:
    """The learner's progress, read (and repaired) with its warnings on stderr."""
    progress = ProgressStore()
    progress.state()
    for warning in progress.warnings:
        print(f"tutor: {warning}", file=sys.stderr)
    return progress


def one_line(text: str, width: int = 60) -> str:
    """Text from a file, as one line of printable characters."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return clean if len(clean) <= width else clean[: width - 1] + "…"
