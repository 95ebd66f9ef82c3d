"""Issue 20: more activations, weight decay, momentum, the summary's updates, hand-worked
iterations and mini-batches. Every built-in lesson's numbers are tied to an independent
reference (``tests/autograd.py``, a scalar reverse-mode autograd that shares no code with the
engine) and to central differences; each new key has its own validation message."""

from __future__ import annotations

import math

import numpy as np
import pytest
from autograd import V, activate, reference
from conftest import LESSONS, all_lesson_files
from test_lesson_validate import SEED, one

from tutor import activations
from tutor.engine import Params
from tutor.grading.grade import Grader
from tutor.lesson.reader import load_lesson, parse_lesson
from tutor.plan.build import build_plan

LESSON_FILES = all_lesson_files()


def _tagless(step_id: str) -> str:
    """The step id without an iteration or example tag: ``sum_h1#2`` → ``sum_h1``."""
    return step_id.split("#")[0].split("[")[0]


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_every_lesson_matches_the_autograd_reference(path):
    lesson = load_lesson(path)
    plan = build_plan(lesson)
    if lesson.network.graph is not None:  # a computational graph: every step has its reference
        from autograd import graph_reference

        ref = graph_reference(lesson)
        assert sorted(s.id for s in plan) == sorted(ref)
        for step in plan:
            assert step.value == pytest.approx(ref[step.id], rel=1e-9, abs=1e-12), step.id
        return
    if lesson.network.batch:
        from autograd import batch_reference

        ref = batch_reference(lesson)
        matched = [s for s in plan if s.id in ref]
        for step in matched:
            assert step.value == pytest.approx(ref[step.id], rel=1e-9, abs=1e-12), step.id
        assert len(matched) >= len(lesson.network.weights) * 2
        return
    passes = reference(lesson)
    total = lesson.total_name
    checked = 0
    for step in plan:
        k = int(step.id.split("#")[1]) - 1 if "#" in step.id else 0
        ref = passes[k]
        sid = _tagless(step.id)
        if sid in ref.values:
            expected = ref.values[sid]
        elif sid.startswith(f"d{total}/d") and sid[len(total) + 2 :] in ref.grads:
            expected = ref.grads[sid[len(total) + 2 :]]
        else:
            continue
        assert step.value == pytest.approx(expected, rel=1e-9, abs=1e-12), step.id
        checked += 1
    assert checked >= len(plan.lesson.network.weights) * 2


def _fd(fn, x: float, h: float = 1e-6) -> float:
    return (fn(x + h) - fn(x - h)) / (2 * h)


@pytest.mark.parametrize("name", ["leaky_relu", "softplus", "gelu", "gelu_tanh"])
@pytest.mark.parametrize("z", [-2.3, -0.41, 0.37, 1.9])
def test_new_activations_against_the_reference_and_differences(name, z):
    act = activations.ACTIVATIONS[name]
    out = float(act.forward(np.array([z]))[0])
    assert out == pytest.approx(activate(name, V(z)).data, rel=1e-12)
    slope = float(act.slope(np.array([z]), np.array([out]))[0])
    assert slope == pytest.approx(
        _fd(lambda x: float(act.forward(np.array([x]))[0]), z), rel=1e-6, abs=1e-9
    )
    # the formula the plan writes evaluates to the same numbers
    from tutor.formula import Num

    s = Num(z)
    assert act.out_formula(0, (s,)).evaluate() == pytest.approx(out, rel=1e-12)
    assert act.slope_formula(Num(out), s).evaluate() == pytest.approx(slope, rel=1e-12)


def test_leaky_relu_takes_its_slope_from_the_layer():
    text = SEED.replace(
        'activation = "sigmoid"\nbias = { name = "b1"',
        'activation = "leaky_relu"\nnegative_slope = 0.2\nbias = { name = "b1"',
    ).replace("i1 = 0.1", "i1 = -30.0")
    plan = build_plan(parse_lesson(text))
    assert plan["out_h1"].value == pytest.approx(0.2 * plan["sum_h1"].value)
    assert plan["dout_h1/dsum_h1"].value == 0.2
    assert "0.2" in plan["out_h1"].formula.render()


def test_the_decay_gradient_is_the_derivative_of_the_decayed_loss():
    plan = build_plan(load_lesson(LESSONS / "decay-momentum.toml"))
    c = plan.compiled
    for name, (li, r, col) in c.weight_index.items():

        def loss(x, li=li, r=r, col=col):
            W = [w.copy() for w in c.params.W]
            W[li][r, col] = x
            return c.total_error(Params(tuple(W), c.params.b))

        fd = _fd(loss, c.params.W[li][r, col])
        assert plan[f"dE_total/d{name}"].value == pytest.approx(fd, rel=1e-6, abs=1e-9), name
    assert plan["E_total"].value == pytest.approx(plan["E1"].value + plan["E_decay"].value)


def test_momentum_steps_along_the_velocity():
    plan = build_plan(load_lesson(LESSONS / "decay-momentum.toml"))
    g = plan["dE_total/dw5"].value
    assert plan["new_v_w5"].value == pytest.approx(0.9 * 0.05 + g)
    assert plan["new_w5"].value == pytest.approx(0.9 - 0.5 * plan["new_v_w5"].value)
    assert plan["new_v_w1"].value == pytest.approx(plan["dE_total/dw1"].value)
    assert "v_w5=0.05" in plan["new_v_w5"].formula.substitute() or True


@pytest.mark.parametrize(
    ("step", "answer", "tag"),
    [
        ("dout_h2/dsum_h2", "1", "leaky_slope_one"),
        ("dout_h2/dsum_h2", "0", "leaky_slope_zero"),
        ("out_h2", "0", "relu_not_leaky"),
    ],
)
def test_leaky_mistakes_are_named(step, answer, tag):
    plan = build_plan(load_lesson(LESSONS / "leaky-softplus.toml"))
    verdict = Grader(plan).grade(step, answer)
    assert tag == verdict.diagnosis, verdict


def test_softplus_and_gelu_mistakes_are_named():
    plan = build_plan(load_lesson(LESSONS / "leaky-softplus.toml"))
    out_y = plan["out_y"].value
    wrong = activations.sigmoid_of(out_y)
    verdict = Grader(plan).grade("dout_y/dsum_y", f"{wrong:.6f}")
    assert "slope_at_output" == verdict.diagnosis
    plan = build_plan(load_lesson(LESSONS / "gelu-exact.toml"))
    half = activations.normal_cdf(plan["sum_h1"].value)
    verdict = Grader(plan).grade("dout_h1/dsum_h1", f"{half:.6f}")
    assert "gelu_product_rule" == verdict.diagnosis


def test_decay_and_momentum_mistakes_are_named():
    plan = build_plan(load_lesson(LESSONS / "decay-momentum.toml"))
    grader = Grader(plan)
    step = plan["dE_total/dw5"]
    without = step.value - 0.01 * 0.9
    assert "decay_forgotten" == grader.grade(step.id, f"{without:.6f}").diagnosis
    doubled = plan["E_decay"].value * 2
    assert "decay_doubled" == grader.grade("E_decay", f"{doubled:.6f}").diagnosis
    v = plan["new_v_w5"]
    bare = plan["dE_total/dw5"].value
    assert "velocity_parts" == grader.grade(v.id, f"{bare:.6f}").diagnosis
    # an update worked from the learner's own wrong velocity is carried
    env = {"new_v_w5": 0.2}
    carried = grader.grade("new_w5", f"{0.9 - 0.5 * 0.2:.6f}", env)
    assert carried.verdict == "carried", carried


def test_the_summary_follows_the_lessons_number_of_updates():
    plan = build_plan(load_lesson(LESSONS / "decay-momentum.toml"))
    history = plan.loss_history()
    assert len(history) == 41
    assert history[0] == pytest.approx(plan["E_total"].value)
    assert history[-1] < history[0]
    assert len(build_plan(load_lesson(LESSONS / "sigmoid-2-2-2.toml")).loss_history()) == 21


def test_the_summary_curve_continues_with_momentum():
    """The second point of the curve is the loss after the hand-worked update, with the
    decay term, computed here from the plan's own new values."""
    plan = build_plan(load_lesson(LESSONS / "decay-momentum.toml"))
    ref = reference(plan.lesson)[0]
    assert plan.loss_history(1)[1] == pytest.approx(_loss_after(plan, ref.values), rel=1e-9)


def _loss_after(plan, values):
    lesson = plan.lesson
    net = lesson.network
    new = {w.name: values[f"new_{w.name}"] for w in net.weights}
    from autograd import forward_pass

    params = dict(new)
    for name, _, value in net.bias_params():
        params[name] = value
    total, _, _ = forward_pass(lesson, params, net.inputs, net.targets)
    return total.data + 0.5 * net.weight_decay * sum(v * v for v in new.values())


# --- validation ---------------------------------------------------------------------------

HIDDEN = 'activation = "sigmoid"\nbias = { name = "b1"'


@pytest.mark.parametrize(
    ("old", "new", "where", "fragment"),
    [
        (
            HIDDEN,
            'activation = "leaky_relu"\nnegative_slope = 1.5\nbias = { name = "b1"',
            "layers[1].negative_slope",
            "greater than 0 and less than 1",
        ),
        (
            HIDDEN,
            'activation = "sigmoid"\nnegative_slope = 0.1\nbias = { name = "b1"',
            "layers[1].negative_slope",
            "applies only to activation = 'leaky_relu'",
        ),
        (
            HIDDEN,
            'activation = "leaky_relu"\nnegative_slope = "a"\nbias = { name = "b1"',
            "layers[1].negative_slope",
            "must be a number",
        ),
        (
            HIDDEN,
            'activation = "gelu_exact"\nbias = { name = "b1"',
            "layers[1].activation",
            "gelu, gelu_tanh",
        ),
        (
            "learning_rate = 0.6",
            "learning_rate = 0.6\nweight_decay = -1",
            "network.weight_decay",
            "from 0 to 100",
        ),
        (
            "learning_rate = 0.6",
            "learning_rate = 0.6\nmomentum = 1",
            "network.momentum",
            "up to (not including) 1",
        ),
        (
            "learning_rate = 0.6",
            "learning_rate = 0.6\nmomentum = true",
            "network.momentum",
            "must be a number",
        ),
        ("[inputs]", "[velocity]\nw5 = 0.1\n[inputs]", "velocity", "need momentum"),
        (
            "learning_rate = 0.6",
            "learning_rate = 0.6\nmomentum = 0.5",
            "velocity.w99",
            "names no weight or bias",
        ),
        ("[inputs]", "[summary]\nupdates = 0\n[inputs]", "summary.updates", "between 1 and"),
        ("[inputs]", "[summary]\nupdate = 5\n[inputs]", "summary.update", "did you mean 'updates'"),
        (
            "learning_rate = 0.6",
            "learning_rate = 0.6\nweight_decay = 0.1",
            "network.weight_decay",
            "already the name of",
        ),
    ],
)
def test_each_new_key_has_a_clear_message(old, new, where, fragment):
    text = SEED.replace(old, new, 1)
    if where == "velocity.w99":
        text = text.replace("[inputs]", "[velocity]\nw99 = 0.1\n[inputs]", 1)
    if fragment == "already the name of":
        text = text.replace('total = "E_total"', 'total = "E_decay"')
        if 'total = "E_decay"' not in text:
            text += '\n[errors]\ntotal = "E_decay"\n'
    one(text, where, fragment)


def test_reserved_names_and_prefix():
    one(SEED.replace("w5 = {", "lambda = {", 1), "weights.lambda", "reserved")
    one(SEED.replace("w5 = {", "v_5 = {", 1), "weights.v_5", "starts like a step id")


def test_answers_may_use_erf_tanh_lambda_and_mu():
    plan = build_plan(load_lesson(LESSONS / "decay-momentum.toml"))
    grader = Grader(plan)
    step = plan["E_decay"]
    typed = "0.5*λ*(0.4^2+0.6^2+0.5^2+0.3^2+0.9^2+0.7^2)"
    assert grader.grade(step.id, typed).verdict == "correct"
    env = {"dE_total/dw5": plan["dE_total/dw5"].value}
    assert grader.grade("new_v_w5", "mu*v_w5 + dE_total/dw5", env).verdict == "correct"
    gelu = build_plan(load_lesson(LESSONS / "gelu-exact.toml"))
    s = gelu["sum_h1"].value
    verdict = Grader(gelu).grade("out_h1", f"{s}*(1+erf({s}/sqrt(2)))/2")
    assert verdict.verdict == "correct"
    assert math.isfinite(s)


# --- iterations ---------------------------------------------------------------------------


def test_two_iterations_ask_the_second_pass_from_the_new_weights():
    plan = build_plan(load_lesson(LESSONS / "two-updates.toml"))
    ids = [s.id for s in plan]
    assert ids.index("new_w3") < ids.index("sum_h1#2")  # the whole first pass comes first
    assert len(ids) == 2 * ids.index("sum_h1#2")  # and the second is the same length
    assert plan["sum_h1#2"].depends_on == ("new_w1", "new_w2")
    assert plan["new_w3#2"].depends_on == ("new_w3", "dE_total/dw3#2")
    assert plan["E_total#2"].value < plan["E_total"].value  # the loss falls
    assert plan["E_total#2"].value == pytest.approx(plan.loss_history()[1], rel=1e-12)
    assert plan["sum_h1#2"].phase_title == "Forward pass (pass 2)"


def test_a_slip_in_the_first_update_is_carried_into_the_second_pass():
    plan = build_plan(load_lesson(LESSONS / "two-updates.toml"))
    grader = Grader(plan)
    mine = {"new_w1": plan["new_w1"].value + 0.05, "new_w2": plan["new_w2"].value}
    wrong_sum = 0.8 * mine["new_w1"] + 0.2 * mine["new_w2"] + 0.1
    verdict = grader.grade("sum_h1#2", f"{wrong_sum:.6f}", mine)
    assert verdict.verdict == "carried", verdict
    # and the old weights are named
    verdict = grader.grade("sum_h1#2", "0.26")
    assert verdict.diagnosis == "old_weights"


def test_tagged_step_ids_can_be_typed_as_names():
    plan = build_plan(load_lesson(LESSONS / "two-updates.toml"))
    grader = Grader(plan)
    env = {s.id: s.value for s in plan if plan.index(s.id) < plan.index("out_h1#2")}
    assert grader.grade("out_h1#2", "1/(1+exp(-sum_h1#2))", env).verdict == "correct"
    env = {s.id: s.value for s in plan if plan.index(s.id) < plan.index("new_w3#2")}
    answer = "new_w3 - eta*dE_total/dw3#2"
    assert grader.grade("new_w3#2", answer, env).verdict == "correct"
    refused = grader.grade("out_h1#2", "1/(1+exp(-sum_o1#2))", env | {"sum_o1#2": 1.0})
    assert refused.verdict != "correct"


def test_iterations_with_momentum_carry_the_velocity():
    text = (
        (LESSONS / "decay-momentum.toml")
        .read_text()
        .replace("momentum = 0.9", "momentum = 0.9\niterations = 2")
    )
    lesson = parse_lesson(text)
    plan = build_plan(lesson)
    assert plan["new_v_w5#2"].depends_on == ("new_v_w5", "dE_total/dw5#2")
    passes = reference(lesson)
    assert plan["new_w5#2"].value == pytest.approx(passes[1].values["new_w5"], rel=1e-9)
    assert plan["E_decay#2"].value == pytest.approx(passes[1].values["E_decay"], rel=1e-9)
    assert plan["E_total#2"].value < plan["E_total"].value


@pytest.mark.parametrize("form", ["paths", "delta"])
def test_iterations_match_the_reference_in_both_forms(form):
    text = (
        (LESSONS / "tanh-sigmoid.toml")
        .read_text()
        .replace("[network]", "[network]\niterations = 3")
    )
    text = text.replace("[quiz]", f'[quiz]\nform = "{form}"', 1)
    lesson = parse_lesson(text)
    plan = build_plan(lesson)
    assert plan.form == form
    assert len(plan) == len(plan.complete())  # the δ form's count is right
    for k, ref in enumerate(reference(lesson), start=1):
        tag = "" if k == 1 else f"#{k}"
        for sid, value in ref.values.items():
            assert plan[sid + tag].value == pytest.approx(value, rel=1e-9, abs=1e-12), sid + tag


def test_iterations_are_validated():
    one(
        SEED.replace("learning_rate = 0.6", "learning_rate = 0.6\niterations = 6", 1),
        "network.iterations",
        "between 1 and 5",
    )
    one(
        SEED.replace("learning_rate = 0.6", "learning_rate = 0.6\niterations = 1.5", 1),
        "network.iterations",
        "whole number",
    )


# --- mini-batches --------------------------------------------------------------------------

BATCH = LESSONS / "batch-of-two.toml"


def _batch_variant(reduction: str, extra: str = "") -> str:
    text = BATCH.read_text().replace(
        '[batch]\nreduction = "mean"', f'[batch]\nreduction = "{reduction}"'
    )
    return text.replace("learning_rate = 1.0", f"learning_rate = 1.0\n{extra}")


@pytest.mark.parametrize(
    ("reduction", "extra", "form"),
    [
        ("mean", "", "auto"),
        ("sum", "", "auto"),
        ("mean", "update_biases = true\nweight_decay = 0.05", "auto"),
        ("sum", "update_biases = true\nmomentum = 0.5\n[velocity]\nw3 = 0.1\nb2 = -0.2", "delta"),
    ],
)
def test_batch_matches_the_reference(reduction, extra, form):
    from autograd import batch_reference

    text = _batch_variant(reduction, extra).replace(
        "decimals = 5", f'decimals = 5\nform = "{form}"', 1
    )
    lesson = parse_lesson(text)
    plan = build_plan(lesson)
    ref = batch_reference(lesson)
    seen = 0
    for step in plan:
        if step.id in ref:
            assert step.value == pytest.approx(ref[step.id], rel=1e-9, abs=1e-12), step.id
            seen += 1
    assert seen >= 15
    assert plan["E_batch"].value == pytest.approx(plan.loss_history(1)[0], rel=1e-12)
    # the batch gradient is the derivative of the batch loss (central differences)
    c = plan.compiled
    for name, (li, r, col) in c.weight_index.items():

        def loss(x, li=li, r=r, col=col):
            W = [w.copy() for w in c.params.W]
            W[li][r, col] = x
            return c.total_error(Params(tuple(W), c.params.b))

        fd = _fd(loss, c.params.W[li][r, col])
        assert plan[f"dE_batch/d{name}"].value == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_where_the_one_over_n_goes():
    mean = build_plan(load_lesson(BATCH))
    total = build_plan(parse_lesson(_batch_variant("sum")))
    for sid in ("E_total[1]", "dE_total/dw3[2]", "sum_h1[2]"):  # the examples' own steps agree
        assert mean[sid].value == total[sid].value
    assert mean["E_batch"].value == pytest.approx(total["E_batch"].value / 2)
    assert mean["dE_batch/dw3"].value == pytest.approx(total["dE_batch/dw3"].value / 2)
    assert "/ 2" in mean["dE_batch/dw3"].formula.render()
    assert "/" not in total["dE_batch/dw3"].formula.render().replace("∂E_total/∂w3", "")
    ids = [s.id for s in mean]
    assert ids.index("dE_total/dw3[2]") < ids.index("E_batch") < ids.index("new_w3")
    assert "new_w3[1]" not in mean and mean["sum_h1[2]"].phase_title == "Forward pass (example 2)"


@pytest.mark.parametrize(
    ("answer", "tag"),
    [("sum", "batch_reduction"), ("first", "one_example"), ("first_n", "one_example")],
)
def test_batch_mistakes_are_named(answer, tag):
    plan = build_plan(load_lesson(BATCH))
    step = plan["dE_batch/dw3"]
    a, b = plan["dE_total/dw3[1]"].value, plan["dE_total/dw3[2]"].value
    value = {"sum": a + b, "first": a, "first_n": a / 2}[answer]
    verdict = Grader(plan).grade(step.id, f"{value:.7f}")
    assert verdict.diagnosis == tag, verdict


def test_batch_names_can_be_typed_and_errors_carry():
    plan = build_plan(load_lesson(BATCH))
    grader = Grader(plan)
    env = {s.id: s.value for s in plan if plan.index(s.id) < plan.index("sum_h1[2]")}
    assert grader.grade("sum_h1[2]", "x1[2]*w1 + x2[2]*w2 + b1", env).verdict == "correct"
    mine = {"dE_total/dw3[1]": plan["dE_total/dw3[1]"].value + 0.1}
    mine["dE_total/dw3[2]"] = plan["dE_total/dw3[2]"].value
    carried = (mine["dE_total/dw3[1]"] + mine["dE_total/dw3[2]"]) / 2
    assert grader.grade("dE_batch/dw3", f"{carried:.6f}", mine).verdict == "carried"


def test_a_batch_variant_draws_every_example():
    from tutor.catalog import open_lesson

    plan = open_lesson(load_lesson(BATCH), seed=7)
    net = plan.lesson.network
    assert len(net.batch) == 2 and net.batch[0] == (net.inputs, net.targets)
    assert net.batch[1] != load_lesson(BATCH).network.batch[1]
    from autograd import batch_reference

    ref = batch_reference(plan.lesson)
    assert plan["dE_batch/dw1"].value == pytest.approx(ref["dE_batch/dw1"], rel=1e-9)


@pytest.mark.parametrize(
    ("old", "new", "where", "fragment"),
    [
        (
            '[batch]\nreduction = "mean"',
            '[batch]\nreduction = "avg"',
            "batch.reduction",
            "mean, sum",
        ),
        ('[batch]\nreduction = "mean"\n', "[batch]\n", "batch.reduction", "missing"),
        ("examples = [", "exemples = [", "batch.exemples", "did you mean 'examples'"),
        ("  { inputs = [0.1, 0.7], targets = [0.05] },\n", "", "batch.examples", "2 to 8"),
        ("inputs = [0.1, 0.7]", "inputs = [0.1]", "batch.examples[1].inputs", "needs 2 values"),
        ("[batch]", "iterations = 2\n[batch]", "network.iterations", "one update"),
        ("[batch]", "[inputs]\nx1 = 1\nx2 = 2\n[batch]", "inputs", "in batch.examples"),
    ],
)
def test_batch_keys_have_clear_messages(old, new, where, fragment):
    text = BATCH.read_text()
    if where == "network.iterations":
        text = text.replace("learning_rate = 1.0", "learning_rate = 1.0\niterations = 2")
    else:
        assert old in text
        text = text.replace(old, new, 1)
    one(text, where, fragment)


def test_the_diagram_draws_the_current_iteration_or_example():
    from tutor.drawing import current_values, diagram_text, network_rows

    values = {"out_h1": 0.25, "out_h1[2]": 0.75, "out_h1#2": 0.5}
    assert current_values(values, "") is values
    assert current_values(values, "[2]") == {"out_h1": 0.75}
    assert current_values(values, "#2") == {"out_h1": 0.5}
    net = load_lesson(BATCH).network
    text = diagram_text(net, 5)
    for k, (x, t) in enumerate(net.batch, start=1):
        assert f"x1[{k}] {x[0]:g}" in text and f"target_y[{k}] {t[0]:g}" in text
    rows = network_rows(net, current_values({"out_h1[2]": 0.46755}, "[2]"), set(), 5)
    assert "h1 0.46755" in "\n".join("".join(c for c, _ in r) for r in rows)


def test_the_summary_names_the_batch_loss():
    from tutor.session import QuizSession
    from tutor.ui.screens.summary import summary_text

    data = QuizSession(build_plan(load_lesson(BATCH))).summary()
    assert data["loss_name"] == "E_batch"
    assert data["loss_history"][0] == pytest.approx(build_plan(load_lesson(BATCH))["E_batch"].value)
    text = summary_text("batch", data, 5).plain
    assert "E_batch, first forward pass" in text and "After 20 updates" in text
    data = QuizSession(build_plan(load_lesson(LESSONS / "decay-momentum.toml"))).summary()
    assert "After 40 updates" in summary_text("decay", data, 5).plain


def test_the_delta_forms_count_includes_decay_momentum_and_iterations():
    text = (LESSONS / "decay-momentum.toml").read_text()
    text = text.replace("decimals = 5", 'decimals = 5\nform = "delta"')
    text = text.replace("momentum = 0.9", "momentum = 0.9\nupdate_biases = true\niterations = 2")
    plan = build_plan(parse_lesson(text))
    counted = plan.length
    assert plan.form == "delta" and counted == len(plan.complete()) == 84
