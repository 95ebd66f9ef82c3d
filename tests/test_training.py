"""The XOR lesson's training set: the loss curve really learns XOR."""

from __future__ import annotations

import numpy as np
from conftest import LESSONS

from tutor import engine
from tutor.engine import compile_network
from tutor.lesson.model import LessonError
from tutor.lesson.reader import load_lesson, parse_lesson
from tutor.plan.build import build_plan


def test_xor_training_converges():
    lesson = load_lesson(LESSONS / "xor-training.toml")
    plan = build_plan(lesson)
    history = plan.training_history()
    assert history[0] > 0.5 and history[-1] < 0.01
    # after training, the net separates the four patterns
    c = compile_network(lesson.network)
    params = c.params
    for _ in range(lesson.training.epochs):
        for x, t in zip(lesson.training.inputs, lesson.training.targets, strict=True):
            params = engine.step(c.spec, params, np.array(x), np.array(t), c.lr, True).new
    outs = [engine.forward(c.spec, params, np.array(x))[1][-1][0] for x in lesson.training.inputs]
    assert [round(o) for o in outs] == [0, 1, 1, 0]


def test_zero_input_gives_zero_gradient():
    plan = build_plan(load_lesson(LESSONS / "xor-training.toml"))
    assert plan["dE_total/dw2"].value == 0.0 and plan["new_w2"].value == -0.6


def test_training_examples_are_validated():
    text = (
        (LESSONS / "xor-training.toml")
        .read_text()
        .replace("{ inputs = [0.0, 0.0], targets = [0.0] }", "{ inputs = [0.0], targets = [0.0] }")
    )
    try:
        parse_lesson(text, file="x.toml")
    except LessonError as err:
        assert any("training.examples[0].inputs" in str(p) for p in err.problems)
    else:
        raise AssertionError("a short example was accepted")
