"""Answers in symbols (issue 17): names of the givens and of answered steps, read by the
whitelist parser with the learner's own values, refused with a reason when a step has no
value yet, switched off by ``[quiz] names`` / ``exam_names``, in worksheets too, and what was
understood shown under the verdict."""

from __future__ import annotations

import builtins
import math
import time

import pytest
from apphelpers import answer, fill, make_app, run, screen_text, wait_for
from conftest import LESSONS
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.catalog import open_lesson
from tutor.cli import main
from tutor.grading.grade import Grader
from tutor.grading.parse import AnswerError, NameRefused, parse_answer
from tutor.grading.symbols import givens
from tutor.grading.verdict import CARRIED, CORRECT, INCORRECT, INVALID
from tutor.grading.worksheet import grade_worksheet, to_json
from tutor.lesson.model import LessonError
from tutor.lesson.reader import load_lesson, parse_lesson
from tutor.progress.records import RIGHT, StepRecord
from tutor.session import QuizSession

SEED_TEXT = (LESSONS / "sigmoid-2-2-2.toml").read_text()
SEED = load_lesson(LESSONS / "sigmoid-2-2-2.toml")
SLOPE = "dout_h1/dsum_h1"
HANG_GUARD = 1.0


def with_quiz(line: str) -> str:
    """The seed lesson with one more line in its [quiz] table."""
    assert "[quiz]\ndecimals = 5\n" in SEED_TEXT
    return SEED_TEXT.replace("[quiz]\ndecimals = 5\n", f"[quiz]\ndecimals = 5\n{line}\n", 1)


def session_at(step_id: str, mode: str = "learn", text: str | None = None) -> QuizSession:
    """A session whose every step before ``step_id`` was answered right, in order."""
    lesson = SEED if text is None else parse_lesson(text, lesson_id="custom")
    s = QuizSession(open_lesson(lesson), mode=mode)
    while s.current is not None and s.current.id != step_id:
        outcome = s.submit(f"{s.current.value:.5f}")
        assert outcome.advanced, outcome.message
    return s


# --- the parser ------------------------------------------------------------------------------


def test_names_are_numbers_and_step_ids_with_a_slash_are_one_name():
    names = {"out_h1": 0.6, "dE_total/dw5": 0.08, "w5": 0.5, "eta": 0.6}
    assert parse_answer("out_h1*(1-out_h1)", names=names).value == pytest.approx(0.24)
    assert parse_answer("w5 - eta*dE_total/dw5", names=names).value == pytest.approx(0.452)
    # the labels as the screen shows them: ∂ and η
    assert parse_answer("w5 − η·∂E_total/∂w5", names=names).value == pytest.approx(0.452)
    # a slash between two names that make no step id is a division
    assert parse_answer("out_h1/w5", names=names).value == pytest.approx(1.2)
    parsed = parse_answer("out_h1", names=names)
    assert parsed.names == ("out_h1",) and parsed.is_expression and parsed.decimals is None


def test_without_names_every_word_is_unknown_as_before():
    for text in ("out_h1*(1-out_h1)", "w5"):
        with pytest.raises(AnswerError, match="Unknown name"):
            parse_answer(text)
    with pytest.raises(AnswerError, match="Unexpected character"):
        parse_answer("∂E_total/∂w5")  # ∂ is read as d only when names are on


def test_unknown_names_get_a_did_you_mean_and_refused_ones_their_reason():
    names = {"out_h1": 0.6}
    refused = {"out_h2": "out_h2 has no value yet: answer it first."}
    with pytest.raises(AnswerError, match=r"Unknown name 'ot_h1'\. Did you mean 'out_h1'\?"):
        parse_answer("ot_h1*2", names=names, refused=refused)
    with pytest.raises(NameRefused, match="out_h2 has no value yet: answer it first."):
        parse_answer("out_h2", names=names, refused=refused)
    with pytest.raises(AnswerError, match="Unknown name 'sin'"):
        parse_answer("sin(out_h1)", names=names)
    with pytest.raises(AnswerError, match="Missing operator between '2' and 'out_h1'"):
        parse_answer("2out_h1", names=names)
    with pytest.raises(AnswerError, match="Missing operator between 'out_h1' and '\\('"):
        parse_answer("out_h1(1-out_h1)", names=names)


def test_a_big_lessons_typo_is_suggested_quickly():
    names = {f"w{k}": 0.1 for k in range(100_000)}
    start = time.process_time()
    with pytest.raises(AnswerError, match="Did you mean"):
        parse_answer("w12345x", names=names)
    assert time.process_time() - start < HANG_GUARD


def test_names_never_reach_eval(monkeypatch):
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec/compile must not be used")

    names = {"__import__": 1.0, "os": 2.0, "out_h1": 0.5}
    texts = ("__import__('os')", "out_h1.real", "open('x')", "out_h1[0]", "lambda: 1")
    outcomes: list[object] = []
    with monkeypatch.context() as patch:
        # not __import__: a did-you-mean imports difflib (tutor.names.suggest, lazily)
        for name in ("eval", "exec", "compile"):
            patch.setattr(builtins, name, forbidden)
        outcomes.append(parse_answer("__import__ + os*out_h1", names=names).value)
        for text in texts:
            try:
                outcomes.append(parse_answer(text, names=names).value)
            except AnswerError as err:
                outcomes.append(err)
    assert outcomes[0] == 2.0
    assert all(isinstance(o, AnswerError) for o in outcomes[1:]), outcomes


NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}(/[A-Za-z_][A-Za-z0-9_]{0,8})?", fullmatch=True)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(NAME, st.floats(allow_nan=False, allow_infinity=False), max_size=8),
    st.dictionaries(NAME, st.text(min_size=1, max_size=60), max_size=4),
    st.lists(st.one_of(NAME, st.sampled_from(list("+-*/^() ∂η.0123456789e"))), max_size=40),
)
def test_any_text_with_any_names_is_total(names, refused, parts):
    """Random names and random text built from them: a finite value or an AnswerError."""
    text = "".join(parts)
    start = time.process_time()
    try:
        parsed = parse_answer(text, names=names, refused=refused)
    except AnswerError as err:
        assert str(err)
    else:
        assert math.isfinite(parsed.value)
        assert set(parsed.names) <= set(names)
    assert time.process_time() - start < HANG_GUARD


# --- the grader and the session ---------------------------------------------------------------


def test_the_slope_in_symbols_is_accepted_after_out_h1_and_shows_what_was_understood():
    s = session_at(SLOPE)
    outcome = s.submit("out_h1*(1-out_h1)")
    verdict = outcome.verdict
    assert verdict is not None and verdict.verdict == CORRECT and outcome.advanced
    assert verdict.understood == "out_h1·(1 − out_h1) = 0.60109·(1 − 0.60109) = 0.23978"
    assert s.records[SLOPE].status in RIGHT


def test_givens_and_labels_are_names_and_an_update_reads_as_on_paper():
    s = session_at("new_w5")
    verdict = s.submit("w5 - η*∂E_total/∂w5").verdict
    assert verdict is not None and verdict.verdict == CORRECT
    assert verdict.understood == "w5 − η·∂E_total/∂w5 = 0.5 − 0.6·0.08020 = 0.45188"
    s = session_at("E1")
    verdict = s.submit("1/2*(target_o1 - out_o1)^2").verdict
    assert verdict is not None and verdict.verdict == CORRECT, verdict.message
    assert givens(SEED.network)["target_o1"] == 0.05


def test_a_wrong_earlier_value_of_the_learners_own_carries():
    """The learner's own accepted out_h1 (carried, not the engine's) is the one read."""
    plan = open_lesson(SEED)
    mine = 0.62
    records = {
        s.id: StepRecord(status=CORRECT, value=s.value)
        for s in plan
        if plan.index(s.id) < plan.index(SLOPE)
    }
    records["out_h1"] = StepRecord(status=CARRIED, value=mine)
    s = QuizSession(plan, records=records)
    assert s.current is not None and s.current.id == SLOPE
    verdict = s.submit("out_h1*(1-out_h1)").verdict
    assert verdict is not None and verdict.verdict == CARRIED, verdict.message
    assert verdict.value == pytest.approx(mine * (1 - mine))
    assert verdict.understood == "out_h1·(1 − out_h1) = 0.62000·(1 − 0.62000) = 0.23560"
    assert verdict.carried_from == ("out_h1",)


def test_a_step_without_a_value_or_the_step_itself_is_refused_with_its_reason():
    s = session_at("out_h1")
    outcome = s.submit("out_h2")
    assert outcome.verdict is not None and outcome.verdict.verdict == INVALID
    assert outcome.message == "out_h2 has no value yet: answer it first."
    assert s.records["out_h1"].attempts == 0  # not a try
    assert s.submit("2*out_h1").message == (
        "out_h1 is the step you are answering: write it from earlier values."
    )
    assert s.submit("∂E_total/∂w5").message == "∂E_total/∂w5 has no value yet: answer it first."
    typo = s.submit("1/(1+exp(-sum_h))").message
    assert typo.startswith("Unknown name 'sum_h'. Did you mean 'sum_h1'?")


def test_an_answer_without_names_has_nothing_understood_and_a_wrong_one_shows_it():
    s = session_at("out_h1")
    verdict = s.submit("0.60109").verdict
    assert verdict is not None and verdict.understood is None
    verdict = s.submit("i1*w2 + i2*w3 + b1").verdict  # sum_h2 with w3 for w4
    assert verdict is not None and verdict.verdict == INCORRECT
    assert verdict.understood == "i1·w2 + i2·w3 + b1 = 0.1·0.2 + 0.5·0.3 + 0.25 = 0.42000"


def test_names_off_for_the_lesson_or_for_its_exams():
    off = with_quiz("names = false")
    s = session_at(SLOPE, text=off)
    outcome = s.submit("out_h1*(1-out_h1)")
    assert outcome.verdict is not None and outcome.verdict.verdict == INVALID
    assert outcome.message == (
        "Names such as out_h1 are switched off for this lesson: type the number."
    )
    assert "Unknown name 'foo'" in s.submit("foo").message
    assert s.submit("0.60109*(1-0.60109)").verdict.verdict == CORRECT  # type: ignore[union-attr]

    exam_off = with_quiz("exam_names = false")
    exam = session_at("out_h1", mode="exam", text=exam_off)
    assert exam.submit("1/(1+exp(-sum_h1))").message == (
        "Names such as sum_h1 are switched off in this exam: type the number."
    )
    learn = session_at("out_h1", text=exam_off)
    assert learn.submit("1/(1+exp(-sum_h1))").verdict.verdict == CORRECT  # type: ignore[union-attr]
    # by default an exam reads names as learn mode does
    assert session_at("out_h1", mode="exam").submit("1/(1+exp(-sum_h1))").advanced


def test_names_need_expressions():
    lesson = parse_lesson(with_quiz("expressions = false"), lesson_id="x")
    assert not lesson.quiz.names_in("learn") and not lesson.quiz.names_in("exam")
    message = Grader(open_lesson(lesson)).grade("out_h1", "sum_h1").message
    assert message.startswith("Names such as sum_h1 are switched off for this lesson")


@pytest.mark.parametrize(
    ("line", "where", "fragment"),
    [
        ('names = "yes"', "quiz.names", "must be true or false, not a string"),
        ("exam_names = 1", "quiz.exam_names", "must be true or false, not a whole number"),
        ("nmes = false", "quiz.nmes", "unknown key (did you mean 'names'?)"),
        ("expressions = false\nnames = true", "quiz.names", "names need expressions"),
    ],
)
def test_bad_names_settings_are_named(line, where, fragment):
    with pytest.raises(LessonError) as info:
        parse_lesson(with_quiz(line), lesson_id="x")
    assert any(p.where == where and fragment in p.what for p in info.value.problems), [
        str(p) for p in info.value.problems
    ]


def test_validate_reports_a_bad_names_setting(tmp_path, capsys):
    path = tmp_path / "x.toml"
    path.write_text(with_quiz("exam_names = 0"))
    assert main(["validate", str(path)]) != 0
    assert "quiz.exam_names: must be true or false" in capsys.readouterr().out


# --- worksheets ------------------------------------------------------------------------------


def test_worksheet_answers_use_names_with_the_sheets_own_values():
    plan = open_lesson(SEED)
    answers = {s.id: f"{s.value:.5f}" for s in plan}
    answers["out_h1"] = "1/(1+exp(-sum_h1))"
    answers[SLOPE] = "out_h1*(1-out_h1)"
    answers["sum_h2"] = "0.5"  # wrong: a later step that reads it carries
    answers["out_h2"] = "1/(1+exp(-sum_h2))"
    answers["new_w5"] = "w5 - eta*dE_total/dout_o1"  # not the gradient of w5
    answers["sum_o1"] = "out_h1*w5 + out_o1"  # out_o1 comes later on the sheet
    result = grade_worksheet(plan, answers)
    by_id = {v.step_id: v for v in result.verdicts}
    assert by_id["out_h1"].verdict == CORRECT
    assert by_id[SLOPE].verdict == CORRECT
    assert by_id["out_h2"].verdict == CARRIED
    assert by_id["out_h2"].understood == "1/(1 + exp(−sum_h2)) = 1/(1 + exp(−0.50000)) = 0.62246"
    assert by_id["new_w5"].verdict == INCORRECT
    assert by_id["sum_o1"].verdict == INVALID
    assert by_id["sum_o1"].message == "out_o1 has no value yet: answer it first."
    steps = {row["id"]: row for row in to_json(result)["steps"]}
    assert steps[SLOPE]["understood"].startswith("out_h1·(1 − out_h1) = 0.60109")


def test_worksheet_names_follow_the_lessons_names_setting():
    plan = open_lesson(parse_lesson(with_quiz("names = false\nexam_names = true"), lesson_id="x"))
    result = grade_worksheet(plan, {"out_h1": "1/(1+exp(-sum_h1))"})
    verdict = next(v for v in result.verdicts if v.step_id == "out_h1")
    assert verdict.verdict == INVALID and "switched off" in verdict.message


# --- the app ---------------------------------------------------------------------------------


async def test_the_app_accepts_an_answer_in_symbols_and_shows_what_it_understood(tmp_path):
    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        session = app.session
        while session.current.id != SLOPE:
            await fill(pilot, f"{session.current.value:.5f}")
            await pilot.pause()
        await answer(pilot, "new_w1")  # a later step: refused with its reason, not a try
        await wait_for(pilot, lambda: "new_w1 has no value yet" in screen_text(app))
        assert session.records[SLOPE].attempts == 0
        await fill(pilot, "out_h1*(1-out_h1)")
        await wait_for(pilot, lambda: session.records[SLOPE].status in RIGHT)
        shown = screen_text(app)
        assert "Correct: ∂out_h1/∂sum_h1 = 0.23978" in shown
        assert "out_h1·(1 − out_h1) = 0.60109·(1 − 0.60109) = 0.23978" in shown
