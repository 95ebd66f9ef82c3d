"""The commands that work a lesson's numbers: validate, solve, grade and check."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from tutor import solution
from tutor.catalog import open_lesson
from tutor.cli.common import EXIT_FAIL, EXIT_OK, CliError
from tutor.cli.lookup import lesson_files, plan
from tutor.grading import worksheet
from tutor.grading.misconceptions import lesson_misconception_problems
from tutor.grading.selfcheck import check_plan
from tutor.lesson.model import Lesson, LessonError, Problem
from tutor.lesson.reader import load_lesson
from tutor.locations import lesson_files as known_lessons
from tutor.plan.build import plan_problems


def cmd_validate(paths: list[str]) -> int:
    files = lesson_files(paths)
    if not files:
        raise CliError("no lesson files to validate")
    failed = False
    for path, lesson_id in files:
        try:
            lesson = load_lesson(path, lesson_id)
            the_plan = open_lesson(lesson)
            problems = plan_problems(lesson, the_plan)
            problems += lesson_misconception_problems(
                lesson.misconceptions, [s.id for s in the_plan], str(path)
            )
            bad_values = [s.id for s in the_plan if not math.isfinite(s.value)]
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
            print(f"{path}: ok ({len(the_plan)} steps)")
    return EXIT_FAIL if failed else EXIT_OK


def guard_exam(ref: str, seed: int | None, command: str) -> Lesson:
    """While the learner's exam on the lesson is under way, its numbers are not shown or
    graded: asked for them (its seed, or the lesson's own numbers for an exam on those),
    the command is refused; asked for other numbers, it says on stderr that they are not
    the exam's. A progress folder that cannot be read is no reason to stop `solve`.
    Returns the lesson, read once."""
    from tutor.cli.lookup import lesson
    from tutor.opening import entry_seed, exam_under_way
    from tutor.progress.store import ProgressStore

    chosen = lesson(ref)
    try:
        entry = exam_under_way(ProgressStore(), chosen.id)
    except OSError:
        return chosen
    if entry is None:
        return chosen
    exam_seed = entry_seed(entry)
    numbers = "its own numbers" if exam_seed is None else f"seed {exam_seed}"
    if seed == exam_seed:
        raise CliError(
            f"your exam on {chosen.id} ({numbers}) is in progress: 'tutor {command}' will "
            "not show its numbers until the exam ends."
        )
    shown = "the lesson's own numbers" if seed is None else f"seed {seed}"
    print(
        f"tutor: your exam on {chosen.id} ({numbers}) is in progress; this {command} is "
        f"for {shown}, which are not the exam's numbers.",
        file=sys.stderr,
    )
    return chosen


def cmd_solve(ref: str, fmt: str, ascii_only: bool, seed: int | None = None) -> int:
    the_plan = plan(guard_exam(ref, seed, "solve"), seed)
    if fmt == "json":
        sys.stdout.write(solution.render_json(the_plan) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(solution.render_markdown(the_plan))
    else:
        style = solution.STYLES["ascii" if ascii_only else "unicode"]
        sys.stdout.write(solution.render_text(the_plan, style))
    return EXIT_OK


def cmd_grade(ref: str, answers_path: str, fmt: str, seed: int | None = None) -> int:
    """Grade a worksheet. An answer under an unknown name exits 1 like a wrong one, after the
    known steps' grades and a line naming it: the sheet was graded, not refused (that is 2)."""
    the_plan = plan(guard_exam(ref, seed, "grade"), seed)
    try:
        answers = worksheet.read_answers(answers_path, the_plan)
    except worksheet.WorksheetError as err:
        raise CliError(str(err)) from None
    result = worksheet.grade_worksheet(the_plan, answers)
    if fmt == "json":
        sys.stdout.write(worksheet.to_json_text(result) + "\n")
    else:
        sys.stdout.write(worksheet.to_table(result, the_plan.lesson.quiz.decimals))
    return EXIT_OK if result.all_answered_right and not result.unknown else EXIT_FAIL


def cmd_check(targets: list[str]) -> int:
    files: list[tuple[Path, str]] = []
    if not targets:
        files = [(p, i) for i, p in known_lessons().items()]
    files += lesson_files(targets)
    if not files:
        raise CliError("no lessons to check")
    failed = False
    for path, lesson_id in files:
        try:
            report = check_plan(open_lesson(load_lesson(path, lesson_id)))
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
