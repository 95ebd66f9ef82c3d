"""The instructor's commands for a class: ``tutor class init``, ``roster add|remove|list``,
``students`` and ``export``. Imported when ``tutor --help`` builds its parser, so only the
parser lives at the top; each command imports what it needs when it runs. None imports
Textual."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.cli.common import EXIT_OK, EXIT_USAGE, CliError, write_private

if TYPE_CHECKING:
    from tutor.classroom.database import ClassDatabase
    from tutor.classroom.figures import Filters


def add_arguments(p: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """The class commands' parsers; returns the group, for the server's ``serve`` to join."""
    sub = p.add_subparsers(dest="class_command", metavar="COMMAND", required=True)
    init = sub.add_parser(
        "init",
        help="make a course folder",
        description="Make a course folder: course.toml (every known lesson, in course order), "
        "an empty roster.toml and the SSH server's host key. An existing course is never "
        "overwritten.",
    )
    init.add_argument("folder", metavar="DIR")
    init.add_argument("--title", help="the course's title (default: the folder's name)")

    roster = sub.add_parser(
        "roster",
        help="add, remove or list students",
        description="Manage roster.toml: students are known by their login name and an "
        "OpenSSH public key, or a one-time enrolment code that binds the key they first log "
        "in with.",
    )
    actions = roster.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a student", description="Add a student.")
    add.add_argument("name", metavar="NAME", help="the login name (ssh NAME@host)")
    how = add.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--key", metavar="FILE_OR_LINE", help="the student's public key: a .pub file or its line"
    )
    how.add_argument("--code", action="store_true", help="make a one-time enrolment code (printed)")
    remove = actions.add_parser(
        "remove",
        help="remove a student",
        description="Remove a student from the roster; their results stay in the database.",
    )
    remove.add_argument("name", metavar="NAME")
    listing = actions.add_parser("list", help="list the roster", description="List the roster.")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    for action in (add, remove, listing):
        _course_option(action)

    students = sub.add_parser(
        "students",
        help="who is enrolled and who is on now",
        description="The roster's students: how each logs in, who is on now and since when, "
        "their last login and how many course lessons they have finished.",
    )
    _folder(students)
    students.add_argument("--format", choices=("table", "json"), default="table")

    export = sub.add_parser(
        "export",
        help="export the gradebook",
        description="Export the gradebook: one row per roster student, those with no "
        "results included. CSV holds each course lesson's and exam's score (safe to open in "
        "a spreadsheet); JSON holds every student's per-lesson rows and attempt log.",
    )
    _folder(export)
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--out", metavar="FILE", help="write here instead of standard output")

    report = sub.add_parser(
        "report",
        help="the gradebook and each step's statistics",
        description="The gradebook (one row per roster student, absent ones included: each "
        "lesson's score, steps right at the first try, hints, reveals and time; each exam's "
        "score, seed, time taken and whether it was finished in its window) and each "
        "lesson's question statistics (per step: attempts, first-try rate, median time, the "
        "named mistakes, and the wrong answers most often typed that match no known mistake).",
    )
    _folder(report)
    report.add_argument("--format", choices=("table", "csv", "json", "markdown"), default="table")
    report.add_argument(
        "--only", choices=("gradebook", "questions"), help="one part of the report only"
    )
    report.add_argument(
        "--since",
        metavar="WHEN",
        help="only what was done since: a date or time (2026-12-07T09:00, local time) or a "
        "time ago (90m, 2h, 7d)",
    )
    report.add_argument(
        "--lesson", action="append", metavar="LESSON", help="only this course lesson (repeatable)"
    )
    report.add_argument(
        "--student", action="append", metavar="NAME", help="only this student (repeatable)"
    )
    report.add_argument("--out", metavar="FILE", help="write here instead of standard output")

    watch = sub.add_parser(
        "watch",
        help="a live dashboard of the class",
        description="A live dashboard of the class during a lab: every roster student's "
        "lesson, step, score and mistakes, the stuck ones standing out; the lesson's steps "
        "across the class; a student's attempts. Updated within 2 s of each answer.",
    )
    _folder(watch)
    watch.add_argument(
        "--stuck-minutes",
        type=_positive,
        default=5.0,
        metavar="M",
        help="a student on one step this long stands out (default 5)",
    )
    watch.add_argument(
        "--stuck-tries",
        type=int,
        default=3,
        metavar="N",
        help="a student with this many wrong tries on one step stands out (default 3)",
    )
    watch.add_argument("--ascii", action="store_true", help="plain ASCII")
    return sub


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 24 * 60:
        raise argparse.ArgumentTypeError(f"{text!r}: give minutes between 0 and 1440")
    return value


def _folder(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "folder", metavar="DIR", nargs="?", default=".", help="the course folder (default: .)"
    )


def _course_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-C",
        "--course",
        dest="folder",
        metavar="DIR",
        default=".",
        help="the course folder (default: the current folder)",
    )


def cmd_class(args: argparse.Namespace) -> int:
    """Run one of the class commands; a bad course file is one line per problem."""
    from tutor.classroom.backends import DatabaseFailed
    from tutor.classroom.tomlfile import CourseError
    from tutor.progress.interface import ProgressUnusable

    try:
        if args.class_command == "init":
            return cmd_init(Path(args.folder), args.title)
        if args.class_command == "roster":
            folder = Path(args.folder)
            if args.roster_command == "add":
                return cmd_roster_add(folder, args.name, args.key, args.code)
            if args.roster_command == "remove":
                return cmd_roster_remove(folder, args.name)
            return cmd_roster_list(folder, args.format)
        if args.class_command == "students":
            return cmd_students(Path(args.folder), args.format)
        if args.class_command == "report":
            return cmd_report(args)
        return cmd_export(Path(args.folder), args.format, args.out)
    except CourseError as err:
        for problem in err.problems:
            print(f"tutor: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except (DatabaseFailed, ProgressUnusable) as err:  # the store says it as unusable
        raise CliError(str(err)) from None


def cmd_init(folder: Path, title: str | None) -> int:
    from tutor.classroom.course import init_course

    course = init_course(folder, title or folder.resolve().name)
    print(f"Made the course {course.title!r} in {folder}: course.toml, roster.toml, host_key.")
    print(f"Add students with: tutor class roster add NAME --key FILE -C {folder}")
    return EXIT_OK


def cmd_roster_add(folder: Path, name: str, key: str | None, code: bool) -> int:
    from tutor.classroom.course import load_course
    from tutor.classroom.roster import NAME_RE, KeyError_, Student, add_student, keys_from, new_code

    load_course(folder)  # a course folder, and a valid one
    if not NAME_RE.fullmatch(name):
        raise CliError(
            f"{name!r} is not a login name: a small letter, then up to 31 small letters, "
            "digits, _ or -"
        )
    if key is not None:
        try:
            keys = keys_from(key)
        except KeyError_ as err:
            raise CliError(f"--key: {err}") from None
        add_student(folder, Student(name, tuple(keys), None))
        print(f"Added {name} ({len(keys)} key{'s' * (len(keys) > 1)}).")
        return EXIT_OK
    made = new_code()
    add_student(folder, Student(name, (), made))
    print(f"Added {name} with the enrolment code {made}")
    print("The first key the student logs in with is bound to them when they type the code.")
    return EXIT_OK


def cmd_roster_remove(folder: Path, name: str) -> int:
    from tutor.classroom.course import load_course
    from tutor.classroom.roster import remove_student

    load_course(folder)
    remove_student(folder, name)
    print(f"Removed {name} from the roster; their results stay in the class database.")
    return EXIT_OK


def cmd_roster_list(folder: Path, fmt: str) -> int:
    from tutor.textmode import json_text

    db = _database(folder)
    try:
        enrolled = db.enrolled()
        roster = db.roster()
    finally:
        db.close()
    rows: list[dict[str, Any]] = [
        {
            "student": s.name,
            "keys": len(s.keys),
            "code": s.code,
            "enrolled": enrolled[s.name].isoformat(timespec="seconds")
            if s.name in enrolled
            else None,
        }
        for s in sorted(roster.values(), key=lambda s: s.name)
    ]
    if fmt == "json":
        print(json_text(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("No students yet: tutor class roster add NAME --key FILE")
        return EXIT_OK
    width = max(len("NAME"), *(len(r["student"]) for r in rows))
    print(f"{'NAME':<{width}} {'KEYS':>4}  CODE")
    for r in rows:
        code = ""
        if r["code"] is not None:
            used = f"used {_local(r['enrolled'])}" if r["enrolled"] else "not used yet"
            code = f"{r['code']} ({used})"
        print(f"{r['student']:<{width}} {r['keys']:>4}  {code}".rstrip())
    return EXIT_OK


def cmd_students(folder: Path, fmt: str) -> int:
    from tutor.classroom.gradebook import students
    from tutor.textmode import json_text

    db = _database(folder)
    try:
        found = students(db)
        _warn(db, found)
    finally:
        db.close()
    if fmt == "json":
        for s in found:
            del s["attempts"], s["warnings"]
        print(json_text(found, indent=2))
        return EXIT_OK
    if not found:
        print("No students yet: tutor class roster add NAME --key FILE")
        return EXIT_OK
    on = sum(s["online"] for s in found)
    print(f"{len(found)} student{'s' * (len(found) != 1)} on the roster, {on} on now.")
    width = max(len("NAME"), *(len(s["student"]) for s in found))  # names: 32 at most
    print(f"{'NAME':<{width}} {'LOGIN BY':<18} {'ON NOW':<12} {'LAST LOGIN':<17} FINISHED")
    for s in found:
        now = f"since {_local(s['online_since'], '%H:%M')}" if s["online"] else "-"
        last = _local(s["last_login"]) if s["last_login"] else "never"
        print(
            f"{s['student']:<{width}} {s['status']:<18} {now:<12} {last:<17} "
            f"{s['finished']}/{s['of']}"
        )
    return EXIT_OK


def cmd_export(folder: Path, fmt: str, out: str | None) -> int:
    import csv
    import io

    from tutor.classroom.gradebook import columns, export_data, grade_rows
    from tutor.textmode import json_text, spreadsheet_cell

    db = _database(folder)
    try:
        data = export_data(db)
        _warn(db, data["students"])
        if fmt == "json":
            text = json_text(data, indent=2) + "\n"
        else:
            buf = io.StringIO()
            names = columns(db)
            writer = csv.DictWriter(buf, fieldnames=names, extrasaction="ignore")
            writer.writerow({c: spreadsheet_cell(c) for c in names})  # a lesson file's name
            for row in grade_rows(db, data["students"]):
                writer.writerow({k: spreadsheet_cell(v) for k, v in row.items()})
            text = buf.getvalue()
    finally:
        db.close()
    if out is None:
        sys.stdout.write(text)
        return EXIT_OK
    write_private(out, text)
    print(f"Exported {len(data['students'])} students to {out}.")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from tutor.classroom.figures import report_data
    from tutor.cli import classreport

    db = _database(Path(args.folder))
    try:
        filters = report_filters(db, args)
        data = report_data(db, filters)
        for message in data["warnings"]:
            print(f"tutor: {message}", file=sys.stderr)
    finally:
        db.close()
    if args.format == "json":
        text = classreport.as_json(data, args.only)
    elif args.format == "csv":
        text = classreport.as_csv(data, args.only)
    else:
        text = classreport.as_text(data, args.only, markdown=args.format == "markdown")
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    write_private(args.out, text)
    print(f"Wrote the report on {len(data['students'])} students to {args.out}.")
    return EXIT_OK


def report_filters(db: ClassDatabase, args: argparse.Namespace) -> Filters:
    """``--since``, ``--lesson`` and ``--student`` checked against the course and roster."""
    from tutor.classroom.figures import Filters
    from tutor.classroom.gradebook import lesson_id
    from tutor.cli.classreport import since_time

    known = [lesson_id(ref) for ref in db.course.lessons]
    known += [i for e in db.course.exams if (i := lesson_id(e.lesson)) not in known]
    for lesson in args.lesson or []:
        if lesson not in known:
            raise CliError(
                f"--lesson {lesson!r}: not a lesson of this course (its lessons: "
                f"{', '.join(known) or 'none'})"
            )
    roster = db.roster()
    for name in args.student or []:
        if name not in roster:
            raise CliError(f"--student {name!r}: not on the roster")
    return Filters(
        since=since_time(args.since) if args.since else None,
        lessons=args.lesson,
        students=args.student,
    )


def _database(folder: Path) -> ClassDatabase:
    from tutor.classroom.course import load_course
    from tutor.classroom.database import open_database
    from tutor.classroom.roster import load_roster

    course = load_course(folder)
    load_roster(folder)  # its problems before the database is opened
    return open_database(course)


def _warn(db: ClassDatabase, found: list[dict[str, Any]]) -> None:
    for message in db.warnings:
        print(f"tutor: {message}", file=sys.stderr)
    for s in found:
        for message in s.get("warnings", []):
            print(f"tutor: {message}", file=sys.stderr)


def _local(iso: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (UTC) in the instructor's time zone."""
    from datetime import datetime

    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime(fmt)
    except ValueError:
        return iso
