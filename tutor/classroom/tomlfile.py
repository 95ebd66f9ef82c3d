"""Reading the instructor's TOML files (course.toml, roster.toml) with the lesson reader's
checks, so that every problem is one ``FILE: where: what`` line, as for lessons."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from tutor.lesson.fields import Reader
from tutor.lesson.model import Problem
from tutor.lesson.reader import _check_text

MAX_FILE_BYTES = 4 * 1024 * 1024


class CourseError(Exception):
    """A course file that cannot be used. ``str()`` is one ``FILE: where: what`` line per
    problem, as for lesson files; ``problems`` has each of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def fail(file: Path | str, where: str, what: str) -> CourseError:
    return CourseError([Problem(str(file), where, what)])


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file, or a :class:`CourseError` that says why it cannot be read."""
    file = str(path)
    try:
        if path.is_dir():
            raise fail(file, "(file)", "is a folder, not a file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise fail(file, "(file)", f"is too large ({size} bytes; at most {MAX_FILE_BYTES})")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail(file, "(file)", "no such file") from None
    except PermissionError:
        raise fail(file, "(file)", "permission denied") from None
    except OSError as err:
        raise fail(file, "(file)", f"cannot be read ({err.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise fail(file, "(file)", f"is not UTF-8 text (bad byte at offset {err.start})") from None
    if "\x00" in text:
        raise fail(file, "(file)", "contains a NUL byte; is it a binary file?")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise fail(file, "(toml)", f"not valid TOML: {err}") from None
    except RecursionError:
        raise fail(file, "(toml)", "nested too deeply") from None


def checked(reader: Reader) -> None:
    """Raise every problem the reader found, if it found any."""
    if reader.problems:
        raise CourseError(reader.problems)


def check_text(reader: Reader, data: Any, where: str = "") -> None:
    """No key or string may hold a character a terminal acts on or hides (the lesson
    reader's one boundary for text, applied to the course's files)."""
    _check_text(reader, data, where)
