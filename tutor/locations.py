"""Where files live: built-in lessons, instructors' lesson folders and per-user data.

One module knows the paths, with environment overrides (TUTOR_LESSONS_PATH, TUTOR_DATA_DIR)
so that tests and lab hosts can point elsewhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_LESSON = "sigmoid-2-2-2"
LESSON_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def builtin_lessons_dir() -> Path:
    """Inside the package in a wheel; the repository's top-level lessons/ in an editable install."""
    here = Path(__file__).resolve().parent
    packaged = here / "lessons"
    if packaged.is_dir():
        return packaged
    return here.parent / "lessons"


def lesson_dirs() -> list[Path]:
    """Instructors' folders from TUTOR_LESSONS_PATH (colon-separated) first, then the built-ins."""
    dirs = [Path(p) for p in os.environ.get("TUTOR_LESSONS_PATH", "").split(os.pathsep) if p]
    return [*dirs, builtin_lessons_dir()]


def lesson_files() -> dict[str, Path]:
    """Every lesson id and its file; an id found in an earlier folder wins."""
    found: dict[str, Path] = {}
    for d in lesson_dirs():
        try:
            files = sorted(d.glob("*.toml"))
        except OSError:
            continue
        for f in files:
            if LESSON_ID_RE.match(f.stem) and f.is_file():
                found.setdefault(f.stem, f)
    return found


class LessonNotFound(LookupError):
    """A LESSON argument that names no file and no known lesson id."""


def resolve_lesson(ref: str) -> tuple[Path, str]:
    """A lesson id or a path → (file, id). Ids never reach outside the lesson folders."""
    looks_like_path = "/" in ref or os.sep in ref or ref.endswith(".toml")
    if looks_like_path:
        p = Path(ref)
        return p, p.stem
    if not LESSON_ID_RE.match(ref) or ".." in ref:
        raise LessonNotFound(f"{ref!r} is not a lesson id (letters, digits, '-', '_' and '.')")
    files = lesson_files()
    if ref in files:
        return files[ref], ref
    if Path(ref).is_file():
        return Path(ref), Path(ref).stem
    known = ", ".join(sorted(files)[:8]) or "none"
    raise LessonNotFound(f"no lesson {ref!r} (known: {known}; see 'tutor list')")
