"""``tutor list``: the lessons there are, in course order (no engine needed)."""

from __future__ import annotations

import sys
from typing import Any

from tutor.catalog import catalogue
from tutor.cli.common import EXIT_OK, one_line
from tutor.textmode import json_text


def cmd_list(fmt: str) -> int:
    lessons, problems = catalogue()
    for problem in problems:
        print(f"tutor: skipping {problem}", file=sys.stderr)
    rows: list[dict[str, Any]] = [
        {
            "id": lesson.id,
            "title": lesson.title,
            "path": str(lesson.path),
            "size": lesson.size,
            "difficulty": lesson.difficulty,
            "minutes": lesson.minutes,
            "order": lesson.order,
        }
        for lesson in lessons
    ]
    if fmt == "json":
        print(json_text(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("No lessons found.")
        return EXIT_OK
    width = max(len(r["id"]) for r in rows)
    print(f"{'ID':<{width}}  {'SIZE':<9} {'LEVEL':<5} {'MIN':>3}  TITLE")
    for r in rows:
        print(
            f"{r['id']:<{width}}  {r['size']:<9} {'*' * r['difficulty']:<5} {r['minutes']:>3}  "
            f"{one_line(r['title'])}"
        )
    return EXIT_OK
