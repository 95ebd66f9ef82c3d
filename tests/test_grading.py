"""Grading: the article worksheet, each classic mistake, carried errors, tolerance, hints."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
from conftest import LESSONS, all_lesson_files
from hypothesis import given
from hypothesis import strategies as st
from test_article import ARTICLE

from tutor.grading import worksheet
from tutor.grading.breakdown import as_rich, as_text, breakdown
from tutor.grading.grade import Grader
from tutor.grading.hints import auto_level, hint
from tutor.grading.selfcheck import check_plan
from tutor.grading.verdict import CARRIED, CORRECT, INCORRECT, INVALID
from tutor.grading.worksheet import StepNames, grade_worksheet, match_names
from tutor.lesson.reader import load_lesson, parse_lesson
from tutor.numfmt import fmt_value
from tutor.plan.build import build_plan
from tutor.textmode import to_ascii
from tutor.tolerance import Tolerance

SEED = (LESSONS / "sigmoid-2-2-2.toml").read_text()


@pytest.fixture
def grader(seed_plan):
    return Grader(seed_plan)


def article_worksheet(plan) -> dict[str, str]:
    """The article's printed numbers, and the tutor's own to 5 decimals where it prints none."""
    return {s.id: ARTICLE.get(s.id, fmt_value(s.value, 5, ascii_minus=True)) for s in plan}


def test_whole_article_worksheet_is_accepted(seed_plan):
    result = grade_worksheet(seed_plan, article_worksheet(seed_plan))
    bad = [
        (v.step_id, v.answer, v.verdict, v.message) for v in result.verdicts if v.verdict != CORRECT
    ]
    assert bad == []
    assert result.summary()["score"] == len(seed_plan)


def test_every_article_number_is_accepted_on_its_own(grader):
    for step_id, printed in ARTICLE.items():
        assert grader.grade(step_id, printed).verdict == CORRECT, (step_id, printed)


@pytest.mark.parametrize(
    ("step_id", "answer", "tag"),
    [
        ("sum_h1", "0.1*0.1 + 0.5*0.3", "bias_forgotten"),
        ("sum_h1", "0.1*0.1 + 0.5*0.2 + 0.25", "wrong_wiring"),
        ("out_h1", "0.41", "activation_forgotten"),
        ("out_h1", "1/(1+exp(0.41))", "sigmoid_sign"),
        ("E1", "(0.05 - 0.73492)^2", "half_dropped"),
        ("dE_total/dout_o1", "0.05 - 0.73492", "target_sign"),
        ("dout_o1/dsum_o1", "1.01977*(1 - 1.01977)", "derivative_from_sum"),
        ("new_w5", "0.5 + 0.6*0.08020", "update_added"),
        ("new_w5", "0.5 - 0.08020", "rate_forgotten"),
        ("dE_total/dw1", "0.00159", "one_path"),
        ("dsum_o1/dout_h1", "0.45188", "updated_weights"),
        ("E1", "0.24908", "total_for_part"),
        ("dE1/dw1", "0.00110", "total_for_part"),
        ("sum_o1", "0.41*0.5 + 0.47*0.6 + 0.35", "sum_for_out"),
        ("dsum_o1/dw5", "0.5", "wrong_variable"),
        ("dsum_o1/dout_h1", "0.6", "wrong_wiring"),
    ],
)
def test_each_classic_mistake_is_rejected_and_named(grader, step_id, answer, tag):
    v = grader.grade(step_id, answer)
    assert v.verdict == INCORRECT
    assert v.diagnosis == tag, v.message
    assert v.message and "Correct" not in v.message


def test_updated_weights_mistake_carries_into_the_hidden_chain(grader, seed_plan):
    # using new_w5 in place of w5 changes ∂E1/∂w1: 0.68492·0.19480·0.45187·0.23978·0.1
    wrong = 0.68492 * 0.19480 * seed_plan["new_w5"].value * 0.23978 * 0.1
    v = grader.grade("dE1/dw1", repr(wrong))
    assert v.verdict == INCORRECT and v.diagnosis == "updated_weights"


def test_carried_error_gets_its_own_verdict(seed_plan):
    answers = article_worksheet(seed_plan)
    answers["sum_h1"] = "0.16"  # bias forgotten
    answers["out_h1"] = repr(1 / (1 + math.exp(-0.16)))  # right method on the wrong sum
    result = grade_worksheet(seed_plan, answers)
    by_id = {v.step_id: v for v in result.verdicts}
    assert by_id["sum_h1"].verdict == INCORRECT and by_id["sum_h1"].diagnosis == "bias_forgotten"
    assert by_id["out_h1"].verdict == CARRIED
    assert "sum_h1" in by_id["out_h1"].message and "method is right" in by_id["out_h1"].message
    assert result.summary()[CARRIED] >= 1


def test_carried_credit_needs_the_learners_own_result(seed_plan):
    """With a wrong earlier value, only the result of that value earns carried credit: an
    answer that is neither it nor the right value is wrong, for every step that reads an
    earlier one (each earlier value off by 3%)."""
    grader = Grader(seed_plan)
    checked = 0
    for step in seed_plan:
        if not step.depends_on:
            continue
        learner = {ref: seed_plan[ref].value * 1.03 for ref in step.depends_on}
        carried = step.formula.evaluate(learner)
        tol = grader.tolerance(step)
        if not tol.accepts(carried, step.value):
            # the learner's own result is carried; a number beside it and the right one is not
            assert grader.grade(step.id, repr(carried), learner).verdict == CARRIED, step.id
            away = math.copysign(5 * tol.epsilon(carried), carried - step.value)
            for wrong in (carried + away, step.value - away):
                assert grader.grade(step.id, repr(wrong), learner).verdict == INCORRECT, step.id
            checked += 1
    assert checked > 20


def test_zero_early_never_makes_later_steps_trivial(grader):
    # σ(0) = 0.5 would be "carried" from a sum of 0; the rule refuses it
    assert grader.grade("out_h1", "0.5", {"sum_h1": 0.0}).verdict == INCORRECT
    # a trivial (zero) carried result earns nothing either
    assert grader.grade("dE_total/dw5", "0", {"dsum_o1/dw5": 1e-9}).verdict == INCORRECT


def test_rounding_of_accepted_answers_is_simply_correct(grader):
    own = {"dE_total/dout_o1": 0.68492, "dout_o1/dsum_o1": 0.19480, "dsum_o1/dw5": 0.60108}
    product = 0.68492 * 0.19480 * 0.60108
    v = grader.grade("dE_total/dw5", f"{product:.6f}", own)
    assert v.verdict == CORRECT


def test_invalid_input_is_not_an_attempt(grader):
    for junk in ("abc", "", "2**99999999", "__import__('os')", "0,41"):
        v = grader.grade("sum_h1", junk)
        assert v.verdict == INVALID and not v.is_attempt
        assert len(v.message) < 200


def test_too_coarse_says_how_many_decimals(grader):
    v = grader.grade("out_h1", "0.60")
    assert v.verdict == INCORRECT and v.diagnosis == "too_coarse"
    assert "give 5 decimals" in v.message


def test_expressions_can_be_switched_off():
    plan = build_plan(
        parse_lesson(SEED.replace("decimals = 5", "decimals = 5\nexpressions = false"))
    )
    g = Grader(plan)
    assert g.grade("sum_h1", "0.41").verdict == CORRECT
    v = g.grade("sum_h1", "0.1*0.1 + 0.5*0.3 + 0.25")
    assert v.verdict == INVALID and "switched off" in v.message


def test_tolerance_modes():
    assert Tolerance("decimals", decimals=5).accepts(0.60108, 0.601087)
    assert not Tolerance("decimals", decimals=5).accepts(0.60107, 0.601087)
    rel = Tolerance("relabs", rtol=0.01, atol=0.0)
    assert rel.accepts(1.0099, 1.0) and not rel.accepts(1.011, 1.0)
    sig = Tolerance("sigfig", digits=3)
    assert sig.accepts(0.0802, 0.08020) and sig.accepts(0.08024, 0.0802)
    assert not sig.accepts(0.0803, 0.08020)
    assert Tolerance("decdig", digits=2).accepts(0.414, 0.41) and not Tolerance(
        "decdig", digits=2
    ).accepts(0.416, 0.41)
    # zero uses an absolute band; a non-zero value inside its band keeps its sign and figures
    assert Tolerance("decimals", decimals=5).accepts(3e-6, 0.0)
    assert Tolerance("sigfig", digits=3).accepts(0.0, 0.0)
    assert not Tolerance("decimals", decimals=5).accepts(0.0, 1e-11)
    assert Tolerance("decimals", decimals=5).accepts(1.04e-11, 1e-11)
    # below 1e-12 a value may be rounding noise of an exact 0: graded like 0
    assert Tolerance("decimals", decimals=5).accepts(0.0, -1.4e-17)


TINY = [
    Tolerance("decimals", decimals=4),
    Tolerance("decimals", decimals=5),
    Tolerance("decdig", digits=3),
    Tolerance("relabs", rtol=0.01, atol=1e-3),
]


@given(
    tol=st.sampled_from(TINY),
    mantissa=st.floats(1.0, 9.999),
    exponent=st.integers(-12, -3),
    negative=st.booleans(),
    answer=st.floats(-1e-2, 1e-2),
)
def test_zero_or_the_wrong_sign_is_never_accepted_for_a_non_zero_value(
    tol, mantissa, exponent, negative, answer
):
    v = (-1 if negative else 1) * mantissa * 10.0**exponent
    assert not tol.accepts(0.0, v)
    assert not tol.accepts(-v, v)
    if answer * v <= 0:
        assert not tol.accepts(answer, v)
    if tol.tiny(v):  # asked to two significant figures, rounded or cut
        assert tol.accepts(float(f"{v:.1e}"), v)
        assert tol.accepts(math.trunc(v * 10.0 ** (1 - exponent)) / 10.0 ** (1 - exponent), v)
        assert not tol.accepts(v * 1.2, v)


def test_tiny_values_are_asked_with_their_sign_and_named(tmp_path):
    # at 2 decimals the hidden weights' gradients (about 0.001) are smaller than the band
    text = SEED.replace("decimals = 5", "decimals = 2")
    g = Grader(build_plan(parse_lesson(text)))
    step = next(s for s in g.plan if g.tolerance(s).tiny(s.value))
    v = step.value
    assert g.grade(step.id, "0").verdict == INCORRECT
    assert g.grade(step.id, "0").diagnosis == "tiny_value"
    assert "Not zero" in g.grade(step.id, "0").message
    tiny = [s for s in g.plan if g.tolerance(s).tiny(s.value)]
    flipped = [g.grade(s.id, repr(-s.value)) for s in tiny]
    assert all(f.verdict == INCORRECT for f in flipped)
    assert any("Check the sign" in f.message for f in flipped if f.diagnosis == "tiny_value")
    assert g.grade(step.id, f"{v:.1e}").verdict == CORRECT
    assert "2 significant figures" in g.tolerance(step).describe(v)
    report = check_plan(g.plan)
    assert any(step.id in w and "smaller than its tolerance" in w for w in report.warnings)
    assert report.ok, report.failures


def test_per_step_tolerance_override():
    text = SEED.replace(
        "decimals = 5",
        'decimals = 5\n[quiz.step_tolerance."E_total"]\nmode = "relabs"\nrtol = 0.05',
    )
    g = Grader(build_plan(parse_lesson(text)))
    assert g.grade("E_total", "0.25").verdict == CORRECT
    assert g.grade("E1", "0.23").verdict == INCORRECT


def test_lesson_can_add_its_own_misconception():
    text = (
        SEED
        + '\n[[misconceptions]]\nstep = "sum_h1"\nanswer = "0.1 + 0.5 + 0.25"\ntag = "no_weights"\nmessage = "Multiply each input by its weight [b1]."\n'
    )
    g = Grader(build_plan(parse_lesson(text)))
    v = g.grade("sum_h1", "0.85")
    assert v.diagnosis == "no_weights" and v.message == "Multiply each input by its weight [b1]."


def test_hint_levels_and_escalation(seed_plan):
    step = seed_plan["dE_total/dw5"]
    h1, h2, h3 = (hint(seed_plan, step, k) for k in (1, 2, 3))
    assert "Chain rule" in h1
    assert h2 == "∂E_total/∂w5 = ∂E_total/∂out_o1 · ∂out_o1/∂sum_o1 · ∂sum_o1/∂w5"
    assert h3.startswith("∂E_total/∂w5 = 0.68493 · 0.19481 · 0.60109")
    assert "0.08020" not in h3  # the arithmetic is left to the learner
    # the learner's own numbers appear at level 3
    assert "0.68492" in hint(seed_plan, step, 3, {"dE_total/dout_o1": 0.68492})
    # lesson text overrides a level
    assert hint(seed_plan, seed_plan["dout_h1/dsum_h1"], 1).startswith(
        "This is the sigmoid's slope"
    )
    assert [auto_level(m) for m in range(6)] == [0, 0, 1, 2, 3, 3]


def test_breakdown_matches_the_article_layout(seed_plan):
    text = as_text(breakdown(seed_plan, "dE_total/dw5"))
    assert text.splitlines()[0] == (
        "∂E_total/∂w5 = ∂E_total/∂out_o1 · ∂out_o1/∂sum_o1 · ∂sum_o1/∂w5 = 0.68493 · 0.19481 · 0.60109 = 0.08020"
    )
    assert "∂E_total/∂out_o1 = out_o1 − target_o1 = 0.68493" in text
    hidden = as_text(breakdown(seed_plan, "dE_total/dw1"))
    assert (
        hidden.splitlines()[0]
        == "∂E_total/∂w1 = ∂E1/∂w1 + ∂E2/∂w1 = 0.00160 + (−0.00049) = 0.00111"
    )
    assert "∂sum_o2/∂out_h1 = w7 = 0.70000" in hidden  # each path expanded
    update = as_text(breakdown(seed_plan, "new_w5"))
    assert "η = 0.6 (the learning rate η)" in update


def test_breakdown_as_rich_renders_lesson_text_literally(seed_plan):
    from rich.console import Console

    console = Console(width=200, record=True, color_system=None)
    console.print(as_rich(breakdown(seed_plan, "dE_total/dw5")))
    out = console.export_text()
    assert "∂E_total/∂w5 = " in out and "0.08020" in out


def test_tiny_early_answers_cannot_game_carried_credit(grader):
    # 0.0001 for sum_h1 would make out_h1 ≈ 0.5; it is not a plausible sum, so no credit
    assert grader.grade("out_h1", "0.50002", {"sum_h1": 0.0001}).verdict == INCORRECT
    assert grader.grade("dE_total/dw5", "0.00001", {"dsum_o1/dw5": 0.0001}).verdict == INCORRECT
    # a plausible wrong value (the bias forgotten) still carries
    assert (
        grader.grade("out_h1", repr(1 / (1 + math.exp(-0.16))), {"sum_h1": 0.16}).verdict == CARRIED
    )


def test_far_off_earlier_values_still_carry(grader):
    # ten times the right ∂E_total/∂out_o1, then the right method: no hidden size cut-off
    mine = {"dE_total/dout_o1": 6.8493}
    verdict = grader.grade("dE_total/dw5", "6.8493*0.19481*0.60109", mine)
    assert verdict.verdict == CARRIED
    half = grader.grade("dE_total/dw5", "3.4247*0.19481*0.60109", {"dE_total/dout_o1": 3.4247})
    assert half.verdict == CARRIED
    far = {"sum_h1": -41.0}  # a hundred times off, with the wrong sign
    assert grader.grade("out_h1", repr(1 / (1 + math.exp(41.0))), far).verdict != CARRIED  # ≈ 0
    far = {"sum_h1": -4.1}
    assert grader.grade("out_h1", repr(1 / (1 + math.exp(4.1))), far).verdict == CARRIED


def test_trivial_results_earn_no_carried_credit(grader):
    # a huge sum saturates the sigmoid: out = 1 needs no working
    assert grader.grade("out_h1", "1", {"sum_h1": 50.0}).verdict == INCORRECT
    assert grader.grade("out_h1", "0.99999", {"sum_h1": 12.0}).verdict == INCORRECT
    # an output of 0 or 1 makes the slope out·(1 − out) collapse to 0
    assert grader.grade("dout_o1/dsum_o1", "0", {"out_o1": 1.0}).verdict == INCORRECT
    # a sum of (about) zero makes σ(sum) = 0.5
    assert grader.grade("out_h1", "0.5", {"sum_h1": 0.00008}).verdict == INCORRECT


def test_too_coarse_only_for_the_right_value_shortened(grader):
    assert grader.grade("sum_h1", "0").diagnosis != "too_coarse"
    assert grader.grade("out_h1", "1").diagnosis != "too_coarse"
    assert grader.grade("out_h1", "0.7").diagnosis != "too_coarse"
    assert grader.grade("out_h1", "0.601").diagnosis == "too_coarse"  # rounded
    assert grader.grade("sum_o1", "1.019").diagnosis == "too_coarse"  # truncated
    sig = Grader(
        build_plan(
            parse_lesson(
                SEED.replace(
                    "decimals = 5", 'decimals = 5\ntolerance = { mode = "sigfig", digits = 3 }'
                )
            )
        )
    )
    assert sig.grade("out_h1", "0.601").verdict == CORRECT
    v = sig.grade("out_h1", "0.6")
    assert v.diagnosis == "too_coarse" and "give 3 decimals" in v.message


def test_breakdown_with_learner_values_adds_up(seed_plan):
    own = {"dE_total/dout_o1": 0.68493, "dout_o1/dsum_o1": 0.2, "dsum_o1/dw5": 0.60109}
    head = as_text(breakdown(seed_plan, "dE_total/dw5", own)).splitlines()[0]
    assert head.endswith("0.68493 · 0.20000 · 0.60109 = 0.08234")


def test_impossible_values_get_a_reason(grader):
    v = grader.grade("out_h1", "-0.60109")
    assert v.diagnosis == "out_of_range" and "between 0 and 1" in v.message
    assert grader.grade("E1", "-0.2").diagnosis == "out_of_range"


def test_one_error_for_the_total(grader):
    v = grader.grade("E_total", "0.23456")
    assert v.diagnosis == "one_error_only"


def test_not_close_is_not_called_too_coarse(grader):
    assert grader.grade("dE_total/dw5", "0.1").diagnosis != "too_coarse"
    assert grader.grade("new_w5", "0.4").diagnosis != "too_coarse"
    v = grader.grade("new_w5", "0.45")
    assert v.diagnosis == "too_coarse" and "give 5 decimals" in v.message


@pytest.mark.parametrize("path", all_lesson_files(), ids=lambda p: p.stem)
def test_every_step_is_named_by_its_id_and_its_label_and_by_no_other_step(path):
    """A worksheet may name a step by its id, its label, the label as ASCII mode shows it
    (∂ as d, δ as delta) or with spaces around the slash; none of these names another step."""
    plan = build_plan(load_lesson(path))
    names = StepNames(plan)
    assert None not in names.loose.values()  # no loose form shared by two steps
    for step in plan:
        spaced = step.label.replace("/", " / ")
        for name in (step.id, step.label, to_ascii(step.label), f" {spaced}\t"):
            assert names.find(name) == step.id, (name, step.id)
        assert names.find(step.id.upper()) in (None, step.id)  # case is not forgiven


def test_a_loose_form_two_steps_share_names_neither():
    def step(step_id, label):
        return SimpleNamespace(id=step_id, label=label)

    plan = SimpleNamespace(
        complete=lambda: [step("a1", "∂X/∂Y"), step("b1", "dX / dY"), step("c1", "a1")]
    )
    names = StepNames(plan)  # type: ignore[arg-type]
    assert names.find("a1") == "a1"  # an id names its own step, not the one labelled so
    assert names.find("∂X/∂Y") == "a1" and names.find("dX / dY") == "b1"  # exact labels
    assert names.find("dX/dY") is None  # the plain form of both labels names neither
    assert names.find("∂X / dY") is None


def test_a_label_keyed_mapping_grades_as_the_id_keyed_one(seed_plan):
    answers = dict(ARTICLE, sum_h1="0.16")
    by_id = grade_worksheet(seed_plan, answers)
    by_label = grade_worksheet(seed_plan, {seed_plan[k].label: v for k, v in answers.items()})
    assert by_label.verdicts == by_id.verdicts and by_label.unknown == ()
    assert {v.step_id: v.verdict for v in by_id.verdicts}["dE_total/dw5"] == CORRECT


def test_unknown_names_are_set_aside_with_a_suggestion_while_the_budget_lasts(
    seed_plan, monkeypatch
):
    monkeypatch.setattr(worksheet, "SUGGEST_BUDGET", 2 * len(StepNames(seed_plan).choices))
    entries = [("sum_H1", "0.41", 2), ("∂E_total/∂w55", "1", 3), ("out_H1", "0.6", 4)]
    sheet = match_names(seed_plan, [*entries, ("sum_h2", "0.47", 5)], "a.csv")
    assert sheet.by_step == {"sum_h2": "0.47"}
    assert [(u.key, u.line, u.suggestion) for u in sheet.unknown] == [
        ("sum_H1", 2, "sum_h1"),
        ("∂E_total/∂w55", 3, "∂E_total/∂w5"),
        ("out_H1", 4, None),  # past the budget: listed, without a suggestion
    ]
    result = grade_worksheet(seed_plan, sheet)
    assert result.unknown == sheet.unknown
    assert {v.step_id: v.verdict for v in result.verdicts}["sum_h2"] == CORRECT
