"""Lessons from the command line's LESSON arguments: ids, files and folders, through the
catalog; every failure is one :class:`CliError`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tutor.catalog import CannotOpen, open_lesson, read
from tutor.cli.common import CliError
from tutor.locations import LessonNotFound, resolve_lesson

if TYPE_CHECKING:
    from tutor.lesson.model import Lesson
    from tutor.plan.steps import Plan


def lesson(ref: str) -> Lesson:
    """The lesson ``ref`` names; any failure is one CliError."""
    try:
        return read(ref)
    except CannotOpen as err:
        raise CliError(str(err)) from None


def plan(ref: str | Lesson, seed: int | None = None) -> Plan:
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
            inside = [(f, f.stem) for f in sorted(p.glob("*.toml"))]
            if not inside:
                raise CliError(f"{ref}: a folder with no lesson files (*.toml) in it")
            files += inside
            continue
        try:
            files.append(resolve_lesson(ref))
        except LessonNotFound as err:
            raise CliError(str(err)) from None
    return files
