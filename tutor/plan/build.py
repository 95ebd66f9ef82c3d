"""Build a lesson's plan: run the engine, choose the backward form, and lay out the steps
(made as they are needed). The two forms are described in docs/lesson-format.md, "The step
plan"."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from tutor.engine import compile_network
from tutor.lesson.model import Lesson, Problem
from tutor.names import suggest
from tutor.plan import delta, paths
from tutor.plan.batch import batch_steps
from tutor.plan.builder import Builder
from tutor.plan.forward import errors, forward
from tutor.plan.gates import build_graph_plan
from tutor.plan.steps import Plan

MAX_PATH_WEIGHTS = 64  # paths multiply: the article's form is kept to small networks


def build_plan(lesson: Lesson) -> Plan:
    """The lesson's plan, from one run of the engine on its network (a computational-graph
    lesson's from its gates)."""
    if lesson.network.graph is not None:
        return build_graph_plan(lesson)
    compiled = compile_network(lesson.network)
    if lesson.network.batch:
        examples, batch = compiled.batch_run()
        plan = Plan(lesson, compiled, batch, choose_form(lesson))
        plan.examples = examples
    else:
        traces = compiled.runs(lesson.network.iterations)
        plan = Plan(lesson, compiled, traces[0], choose_form(lesson), traces)
    builder = Builder(plan)
    plan.source = _steps(builder)
    if plan.form == "delta" and not lesson.network.batch:
        plan.length = delta.count(builder) * len(plan.traces)
    return plan


def _steps(b: Builder) -> Iterator[None]:
    """The whole plan as a generator: each yield leaves a few more steps in it. With
    ``iterations = 2`` the second iteration's steps follow the first's, tagged ``#2``."""
    if b.plan.examples:  # a mini-batch: each example, then the batch's own steps
        for k in range(len(b.plan.examples)):
            b.begin_example(k)
            yield from _one_pass(b)
        batch_steps(b)
        yield  # the steps just made are seen before the generator ends
        return
    for iteration in range(len(b.plan.traces)):
        b.begin_iteration(iteration)
        yield from _one_pass(b)


def _one_pass(b: Builder) -> Iterator[None]:
    yield from forward(b)
    errors(b)
    yield
    if b.plan.form == "paths":
        paths.backward(b)
        yield
    else:
        yield from delta.backward(b)


def choose_form(lesson: Lesson) -> str:
    """'paths' for the article's kind of network, 'delta' otherwise (or as the lesson asks)."""
    net = lesson.network
    paths_ok = (
        len(net.layers) <= 3
        and not net.layers[-1].activation_record.layer_wide
        and len(net.weights) <= MAX_PATH_WEIGHTS
    )
    return "paths" if paths_ok and lesson.quiz.form != "delta" else "delta"


def plan_problems(lesson: Lesson, plan: Plan) -> list[Problem]:
    """Checks that need the plan: quiz patterns and hint keys must name real steps."""
    file = lesson.file
    problems = []
    if lesson.quiz.form == "paths" and plan.form != "paths":
        problems.append(
            Problem(
                file,
                "quiz.form",
                f"'paths' needs at most one hidden layer, no softmax and at most "
                f"{MAX_PATH_WEIGHTS} weights",
            )
        )
    ids = [s.id for s in plan]
    for key, patterns in (("ask", lesson.quiz.ask or ()), ("show", lesson.quiz.show)):
        for k, pattern in enumerate(patterns):
            if not fnmatch.filter(ids, pattern):
                problems.append(Problem(file, f"quiz.{key}[{k}]", f"'{pattern}' matches no step"))
    for step_id in lesson.quiz.step_tolerance:
        if step_id not in plan:
            problems.append(
                Problem(file, f'quiz.step_tolerance."{step_id}"', "no step has this id")
            )
    for step_id in lesson.hints:
        if step_id not in plan:
            near = suggest(step_id, ids)
            more = f" (did you mean '{near}'?)" if near else ""
            problems.append(Problem(file, f'hints."{step_id}"', f"no step has this id{more}"))
    if not any(s.asked for s in plan):
        problems.append(Problem(file, "quiz", "no step is asked"))
    return problems
