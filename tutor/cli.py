"""The ``tutor`` command line. Commands other than the app never import Textual."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tutor import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def seed_number(text: str) -> int:
    from tutor.launch import seed_number as parse

    return parse(text)


class CliError(Exception):
    """A one-line error for the user; the command exits 2."""


def _lesson_arg_help() -> str:
    return "a lesson id (see 'tutor list') or a path to a .toml lesson file"


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
            add_arguments(sub.add_parser(name, **texts))
    return parser


def _list_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("table", "json"), default="table")


def _validate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help="lesson files, folders or lesson ids")


def _solve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lesson", metavar="LESSON", help=_lesson_arg_help())
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--ascii", action="store_true", help="plain ASCII (text format only)")
    p.add_argument("--seed", type=seed_number, metavar="N", help="the variant drawn with seed N")


def _grade_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("lesson", metavar="LESSON", help=_lesson_arg_help())
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
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("lesson", nargs="?", metavar="LESSON")


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
            description='Grade a whole worksheet. ANSWERS is JSON ({"step id": answer}) or CSV '
            "(step,answer). Exits 0 when every answered step is correct or carried, 1 otherwise, "
            "2 on bad input.",
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
            "'backprop-tutor[web]'). Binds to localhost unless --host is given.",
        ),
        _serve_arguments,
    ),
}
COMMANDS = tuple(SUBCOMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list and args_list[0] in COMMANDS or not args_list or args_list[0].startswith("-"):
            if not args_list:
                return _run_app([])
            if args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version"):
                return _run_app(args_list)
            only = args_list[0] if args_list[0] in COMMANDS else None
            args = build_parser(only).parse_args(args_list)
            return _dispatch(args)
        return _run_app(args_list)
    except CliError as err:
        print(f"tutor: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "list":
        return cmd_list(args.format)
    if args.command == "validate":
        return cmd_validate(args.paths)
    if args.command == "solve":
        return cmd_solve(args.lesson, args.format, args.ascii, args.seed)
    if args.command == "grade":
        return cmd_grade(args.lesson, args.answers, args.format, args.seed)
    if args.command == "progress":
        return cmd_progress(args.lesson, args.format)
    if args.command == "reset":
        return cmd_reset(args.lesson, args.all, args.yes)
    if args.command == "export":
        return cmd_export(args.format, args.out, args.attempts)
    if args.command == "serve":
        return cmd_serve(args.host, args.port, args.lesson)
    if args.command == "check":
        return cmd_check(args.targets)
    build_parser().print_help()
    return EXIT_USAGE


def _run_app(args_list: list[str]) -> int:
    from tutor.launch import launch

    return launch(args_list)


# --- shared helpers


def load(ref: str, seed: int | None = None):
    """Resolve and load a lesson (its variant for ``seed``); every failure is one CliError."""
    from tutor.lesson import LessonError, load_lesson
    from tutor.locations import LessonNotFound, resolve_lesson

    try:
        path, lesson_id = resolve_lesson(ref)
    except LessonNotFound as err:
        raise CliError(str(err)) from None
    try:
        lesson = load_lesson(path, lesson_id)
    except LessonError as err:
        first = str(err.problems[0])
        more = len(err.problems) - 1
        tail = (
            f" (and {more} more problem{'s' * (more > 1)}; run 'tutor validate {ref}')"
            if more
            else ""
        )
        raise CliError(first + tail) from None
    if seed is None:
        return lesson
    from tutor.variants import NoVariants, draw_variant

    try:
        return draw_variant(lesson, seed)
    except NoVariants as err:
        raise CliError(str(err)) from None


def plan_for(ref: str, seed: int | None = None):
    from tutor.plan import build_plan

    return build_plan(load(ref, seed))


# --- commands


def cmd_list(fmt: str) -> int:
    from tutor.lesson import LessonError, load_lesson
    from tutor.locations import lesson_files

    rows = []
    for lesson_id, path in lesson_files().items():
        try:
            lesson = load_lesson(path, lesson_id)
        except LessonError as err:
            print(f"tutor: skipping {err.problems[0]}", file=sys.stderr)
            continue
        rows.append(
            {
                "id": lesson.id,
                "title": lesson.title,
                "path": str(path),
                "size": lesson.size,
                "difficulty": lesson.difficulty,
                "minutes": lesson.minutes,
                "order": lesson.order,
            }
        )
    rows.sort(key=lambda r: (r["order"], r["id"]))
    if fmt == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("No lessons found.")
        return EXIT_OK
    width = max(len(r["id"]) for r in rows)
    print(f"{'ID':<{width}}  {'SIZE':<9} {'LEVEL':<5} {'MIN':>3}  TITLE")
    for r in rows:
        print(
            f"{r['id']:<{width}}  {r['size']:<9} {'*' * r['difficulty']:<5} {r['minutes']:>3}  "
            f"{_one_line(r['title'])}"
        )
    return EXIT_OK


def _one_line(text: str, width: int = 60) -> str:
    """Titles are data: printable characters only, on one line."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return clean if len(clean) <= width else clean[: width - 1] + "…"


def _lesson_files(refs: list[str]) -> list[tuple[Path, str]]:
    """Lesson files and ids from arguments: folders (every .toml), files and lesson ids."""
    from tutor.locations import LessonNotFound, resolve_lesson

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


def cmd_validate(paths: list[str]) -> int:
    from tutor.grading.misconceptions import lesson_misconception_problems
    from tutor.lesson import LessonError, Problem, load_lesson
    from tutor.plan import build_plan, plan_problems

    files = _lesson_files(paths)
    if not files:
        raise CliError("no lesson files to validate")
    failed = False
    for path, lesson_id in files:
        try:
            lesson = load_lesson(path, lesson_id)
            plan = build_plan(lesson)
            problems = plan_problems(lesson, plan)
            problems += [
                Problem(str(path), *line.split(": ", 2)[1:])
                for line in lesson_misconception_problems(
                    lesson.misconceptions, [s.id for s in plan], str(path)
                )
            ]
            bad_values = [s.id for s in plan if not _finite(s.value)]
            if bad_values:
                problems.append(
                    Problem(
                        str(path),
                        "network",
                        f"the numbers overflow: {bad_values[0]} is not a finite number",
                    )
                )
        except LessonError as err:
            problems = err.problems
        if problems:
            failed = True
            for problem in problems:
                print(problem)
        else:
            print(f"{path}: ok ({len(plan)} steps)")
    return EXIT_FAIL if failed else EXIT_OK


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def cmd_solve(ref: str, fmt: str, ascii_only: bool, seed: int | None = None) -> int:
    from tutor import solution

    plan = plan_for(ref, seed)
    if fmt == "json":
        sys.stdout.write(solution.render_json(plan) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(solution.render_markdown(plan))
    else:
        sys.stdout.write(
            solution.render_text(plan, solution.STYLES["ascii" if ascii_only else "unicode"])
        )
    return EXIT_OK


def cmd_grade(ref: str, answers_path: str, fmt: str, seed: int | None = None) -> int:
    from tutor.grading import worksheet

    plan = plan_for(ref, seed)
    try:
        answers = worksheet.read_answers(answers_path, plan)
    except worksheet.WorksheetError as err:
        raise CliError(str(err)) from None
    result = worksheet.grade_worksheet(plan, answers)
    if fmt == "json":
        print(json.dumps(worksheet.to_json(result), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(worksheet.to_table(result, plan.lesson.quiz.decimals))
    return EXIT_OK if result.all_answered_right else EXIT_FAIL


def cmd_check(targets: list[str]) -> int:
    from tutor.grading.selfcheck import check_plan
    from tutor.lesson import LessonError, load_lesson
    from tutor.locations import lesson_files
    from tutor.plan import build_plan

    files: list[tuple[Path, str]] = []
    if not targets:
        files = [(p, i) for i, p in lesson_files().items()]
    files += _lesson_files(targets)
    if not files:
        raise CliError("no lessons to check")
    failed = False
    for path, lesson_id in files:
        try:
            report = check_plan(build_plan(load_lesson(path, lesson_id)))
        except LessonError as err:
            failed = True
            for problem in err.problems:
                print(problem)
            continue
        for line in report.failures:
            print(f"FAIL {line}")
        for line in report.warnings:
            print(f"warn {line}")
        status = "ok" if report.ok else "FAILED"
        print(
            f"{lesson_id}: {status}: {report.steps} steps checked, {len(report.failures)} "
            f"failures, {len(report.warnings)} warnings"
        )
        failed |= not report.ok
    return EXIT_FAIL if failed else EXIT_OK


def _store():
    from tutor.progress import ProgressStore

    store = ProgressStore()
    store.state()
    for warning in store.warnings:
        print(f"tutor: {warning}", file=sys.stderr)
    return store


def cmd_progress(lesson: str | None, fmt: str) -> int:
    from tutor.report import lesson_rows

    rows = lesson_rows(_store(), lesson)
    if fmt == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("No progress yet." if lesson is None else f"No progress on {lesson} yet.")
        return EXIT_OK
    print(
        f"{'LESSON':<36} {'SCORE':>9} {'CORRECT':>7} {'CARRIED':>7} {'REVEALED':>8} "
        f"{'TIME':>6}  NEXT"
    )
    for r in rows:
        minutes, seconds = divmod(int(r["seconds"]), 60)
        score = f"{r['score']:g}/{r['total']}"
        nxt = r["current"] or "done"
        print(
            f"{r['key'][:36]:<36} {score:>9} {r['correct']:>7} {r['carried']:>7} "
            f"{r['revealed']:>8} {minutes:>3}:{seconds:02d}  {nxt}"
        )
    return EXIT_OK


def cmd_reset(lesson: str | None, everything: bool, yes: bool) -> int:
    if not everything and not lesson:
        raise CliError("name a LESSON to reset, or give --all")
    store = _store()
    lessons = store.state().get("lessons", {})
    if everything:
        keys = list(lessons)
        what = "all your progress"
    else:
        keys = [
            k
            for k, v in lessons.items()
            if k == lesson or (isinstance(v, dict) and v.get("lesson") == lesson)
        ]
        what = f"your progress on {lesson}"
        if not keys:
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
    from tutor.progress import ProgressLocked

    try:
        store.lock()  # never reset under an open session: it would write its state back
    except ProgressLocked as err:
        raise CliError(f"{err}, then reset") from None
    try:
        if everything:
            store.reset(None)
        else:
            for key in keys:
                store.reset(key)
    finally:
        store.unlock()
    print(f"Reset {what}.")
    return EXIT_OK


def cmd_export(fmt: str, out: str | None, attempts: bool) -> int:
    import csv
    import io

    from tutor.report import ATTEMPT_COLUMNS, LESSON_COLUMNS, export_data

    data = export_data(_store())
    if fmt == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        buf = io.StringIO()
        columns = ATTEMPT_COLUMNS if attempts else LESSON_COLUMNS
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in data["attempts"] if attempts else data["lessons"]:
            writer.writerow({**row, "user": data["user"]})
        text = buf.getvalue()
    if out is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:  # results are personal: the file is private, like the progress folder
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as err:
        raise CliError(f"{out}: cannot be written ({err.strerror})") from None
    print(f"Exported to {out}.")
    return EXIT_OK


def cmd_serve(host: str, port: int, lesson: str | None) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        raise CliError(
            "the web front end needs textual-serve: pip install 'backprop-tutor[web]'"
        ) from None
    command = f"{sys.executable} -m tutor"
    if lesson:
        load(lesson)  # refuse a bad lesson before serving
        command += f" {lesson}"
    Server(command, host=host, port=port, title="backprop-tutor").serve()
    return EXIT_OK
