"""The commands about the learner's own progress: progress, reset and export."""

from __future__ import annotations

import csv
import io
import sys

from tutor.cli.common import EXIT_FAIL, EXIT_OK, CliError, write_private
from tutor.locations import lesson_files
from tutor.progress.interface import ProgressLocked, ProgressNotSaved
from tutor.progress.report import ATTEMPT_COLUMNS, LESSON_COLUMNS, export_data, lesson_rows
from tutor.progress.store import ProgressStore
from tutor.textmode import json_text, spreadsheet_cell


def store() -> ProgressStore:
    """The learner's progress, read (and repaired) with its warnings on stderr. A folder
    or file that cannot be used (a FIFO, a link, unreadable) is one line and exit 2."""
    progress = ProgressStore()
    try:
        progress.state()
    except OSError as err:
        raise unusable(progress, err) from None
    for warning in progress.warnings:
        print(f"tutor: {warning}", file=sys.stderr)
    return progress


def unusable(progress: ProgressStore, err: OSError) -> CliError:
    return CliError(f"cannot use the progress folder {progress.where}: {err.strerror}")


def cmd_progress(lesson: str | None, fmt: str) -> int:
    rows = lesson_rows(store(), lesson)
    if fmt == "json":
        print(json_text(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("No progress yet." if lesson is None else f"No progress on {lesson} yet.")
        return EXIT_OK
    # the key column only as wide as the longest key (at most 36): rows stay short
    width = min(36, max(len("LESSON"), *(len(r["key"]) for r in rows)))
    print(
        f"{'LESSON':<{width}} {'SCORE':>9} {'CORRECT':>7} {'CARRIED':>7} {'REVEALED':>8} "
        f"{'MISSES':>6} {'HINTS':>5} {'TIME':>6}  NEXT"
    )
    for r in rows:
        minutes, seconds = divmod(int(r["seconds"]), 60)
        score = f"{r['score']:g}/{r['total']}"
        nxt = r["current"] or "done"
        print(
            f"{r['key'][:width]:<{width}} {score:>9} {r['correct']:>7} {r['carried']:>7} "
            f"{r['revealed']:>8} {r['misses']:>6} {r['hints']:>5} {minutes:>3}:{seconds:02d}  "
            f"{nxt}"
        )
    return EXIT_OK


def cmd_reset(lesson: str | None, everything: bool, yes: bool) -> int:
    if not everything and not lesson:
        raise CliError("name a LESSON to reset, or give --all")
    progress = store()
    lessons = progress.lessons()
    if everything:
        keys = list(lessons)
        what = "all your progress"
        if not keys:  # nothing to do: no folder made, no line logged
            print("No progress to reset.")
            return EXIT_OK
    else:
        keys = [
            k
            for k, v in lessons.items()
            if k == lesson or (isinstance(v, dict) and v.get("lesson") == lesson)
        ]
        what = f"your progress on {lesson}"
        if not keys:
            lesson_id = str(lesson).split("@")[0].split("#")[0]  # a key names its lesson
            if lesson_id not in lesson_files():  # a typo must not look like success
                raise CliError(f"no lesson {lesson!r} and no progress under that name")
            print(f"No progress on {lesson} to reset.")
            return EXIT_OK
    if not yes:
        try:
            reply = input(f"Reset {what}? This cannot be undone. [y/N] ")
        except EOFError:
            reply = ""
        if reply.strip().lower() not in ("y", "yes"):
            print("Nothing was reset (give --yes to skip this question).")
            return EXIT_FAIL
    try:
        progress.lock()  # never reset under an open session: it would write its state back
    except ProgressLocked as err:
        raise CliError(f"{err}, then reset") from None
    except OSError as err:
        raise unusable(progress, err) from None
    try:
        if everything:
            progress.reset(None)
        else:
            for key in keys:
                progress.reset(key)
    except ProgressNotSaved as err:
        raise CliError(f"cannot reset: {err.reason}") from None
    finally:
        progress.unlock()
    print(f"Reset {what}.")
    return EXIT_OK


def cmd_export(fmt: str, out: str | None, attempts: bool) -> int:
    data = export_data(store())
    if fmt == "json":
        text = json_text(data, indent=2) + "\n"
    else:
        buf = io.StringIO()
        columns = ATTEMPT_COLUMNS if attempts else LESSON_COLUMNS
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in data["attempts"] if attempts else data["lessons"]:
            cells = {**row, "user": data["user"]}
            writer.writerow({k: spreadsheet_cell(v) for k, v in cells.items()})
        text = buf.getvalue()
    if out is None:
        sys.stdout.write(text)
        return EXIT_OK
    write_private(out, text)
    print(f"Exported to {out}.")
    return EXIT_OK
