"""`validate` catches each kind of mistake with a message that names the place."""

from __future__ import annotations

import pytest
from conftest import LESSONS

from tutor.lesson.model import LessonError
from tutor.lesson.reader import load_lesson, parse_lesson

SEED = (LESSONS / "sigmoid-2-2-2.toml").read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(LessonError) as err:
        parse_lesson(text, file="x.toml")
    return [str(p) for p in err.value.problems]


def one(text: str, where: str, fragment: str) -> None:
    found = problems(text)
    assert any(p.startswith(f"x.toml: {where}: ") and fragment in p for p in found), found


def test_seed_is_valid():
    assert load_lesson(LESSONS / "sigmoid-2-2-2.toml").id == "sigmoid-2-2-2"


@pytest.mark.parametrize(
    ("old", "new", "where", "fragment"),
    [
        (
            'activation = "sigmoid"\nbias = { name = "b1"',
            'activation = "sigmod"\nbias = { name = "b1"',
            "layers[1].activation",
            "unknown activation 'sigmod'",
        ),
        ('loss = "half_sse"', 'loss = "l2"', "network.loss", "unknown loss 'l2'"),
        # a list or a table where a name belongs is an unknown name, not a crash
        (
            'activation = "sigmoid"\nbias = { name = "b1"',
            'activation = ["sigmoid"]\nbias = { name = "b1"',
            "layers[1].activation",
            "unknown activation",
        ),
        ('loss = "half_sse"', "loss = { a = 1 }", "network.loss", "unknown loss"),
        ("decimals = 5", 'decimals = 5\nform = ["paths"]', "quiz.form", "unknown form"),
        (
            "decimals = 5",
            "decimals = 5\ntolerance = { mode = [1] }",
            "quiz.tolerance.mode",
            "unknown mode",
        ),
        ("learning_rate = 0.6", "learning_rate = -0.6", "network.learning_rate", "greater than 0"),
        (
            "learning_rate = 0.6",
            'learning_rate = "fast"',
            "network.learning_rate",
            "must be a number",
        ),
        ("learning_rate = 0.6", "learning_rate = nan", "network.learning_rate", "finite"),
        ("learning_rate = 0.6", "learning_rate = inf", "network.learning_rate", "finite"),
        (
            'w1 = { from = "i1", to = "h1"',
            'w1 = { from = "i9", to = "h1"',
            "weights.w1.from",
            "unknown unit 'i9'",
        ),
        (
            'w5 = { from = "h1", to = "o1"',
            'w5 = { from = "i1", to = "o1"',
            "weights.w5",
            "from one layer to the next",
        ),
        (
            'w5 = { from = "h1", to = "o1"',
            'w5 = { from = "h2", to = "o1"',
            "weights.w6",
            "already connected by w5",
        ),
        ("i2 = 0.5", "", "inputs.i2", "missing"),
        ("i2 = 0.5", "i2 = 0.5\ni3 = 1.0", "inputs.i3", "unknown key"),
        ('units = ["h1", "h2"]', 'units = ["h1", "h1"]', "layers[1].units", "used twice"),
        ('units = ["h1", "h2"]', 'units = ["h1", "2h"]', "layers[1].units[1]", "not a valid name"),
        ('title = "', 'titel = "', "titel", "did you mean 'title'"),
        ("decimals = 5", "decimals = 0", "quiz.decimals", "between 1 and 12"),
        (
            'name = "output"\nunits = ["o1", "o2"]\nactivation = "sigmoid"',
            'name = "output"\nunits = ["o1", "o2"]\nactivation = "softmax"',
            "network.loss",
            "softmax output layer is taught with loss = 'cross_entropy'",
        ),
        (
            'activation = "sigmoid"\nbias = { name = "b1"',
            'activation = "softmax"\nbias = { name = "b1"',
            "layers[1].activation",
            "output layer only",
        ),
        (
            'bias = { name = "b2", value = 0.35 }',
            'bias = { name = "b1", value = 0.35 }',
            "layers[2].bias",
            "used in two layers",
        ),
        ("w8 = { from", "h1 = { from", "weights.h1", "already the name of unit h1"),
        ('o2 = "E2"', 'o2 = "E1"', "errors", "already the name of error E1"),
        (
            "weights = [0.05, 0.95]",
            "weights = [0.95, 0.05]",
            "variants.weights",
            "greater than high",
        ),
        ("[hints]\n", '[hints]\n"sum_h1" = 5\n', 'hints."sum_h1"', "string"),
        ('o2 = "E2"', 'o2 = "new_w5"', "errors.o2", "starts like a step id"),
        ('o1 = "E1"', 'o1 = "sum_h1"', "errors.o1", "starts like a step id"),
        (
            'units = ["h1", "h2"]',
            'units = ["h1", "h2\\n"]',
            "layers[1].units[1]",
            "not a valid name",
        ),
        (
            'units = ["h1", "h2"]',
            'units = ["h1", "h2"]\nprefix = "x"',
            "layers[1].prefix",
            "only when units is a count",
        ),
        ('units = ["o1", "o2"]', 'units = ["o1", "total"]', "layers[2].units[1]", "reserved"),
        (
            'units = ["h1", "h2"]',
            'units = 2\nprefix = "sum_"',
            "layers[1].prefix",
            "starts like a step id",
        ),
    ],
)
def test_each_mistake_is_named(old, new, where, fragment):
    assert old in SEED, old
    one(SEED.replace(old, new, 1), where, fragment)


def test_missing_sections():
    one('title = "t"', "layers", "missing")
    one(SEED.replace("[targets]\no1 = 0.05\no2 = 0.95", ""), "targets", "missing")
    one(SEED.replace("learning_rate = 0.6\n", ""), "network.learning_rate", "missing")


def test_bad_toml_gives_line():
    found = problems("title = \n")
    assert found[0].startswith("x.toml: (toml): not valid TOML") and "line 1" in found[0]


def test_cross_entropy_targets_must_sum_to_one():
    text = (
        SEED.replace('loss = "half_sse"', 'loss = "cross_entropy"')
        .replace("o2 = 0.95", "o2 = 0.5")
        .replace(
            'units = ["o1", "o2"]\nactivation = "sigmoid"',
            'units = ["o1", "o2"]\nactivation = "softmax"',
        )
    )
    one(text, "targets", "add up to 1")


def test_binary_garbage_and_missing_files(tmp_path):
    with pytest.raises(LessonError, match="not UTF-8"):
        parse_lesson(b"\xff\xfe\x00garbage", file="x.toml")
    with pytest.raises(LessonError, match="no such file"):
        load_lesson(tmp_path / "nope.toml")
    with pytest.raises(LessonError, match="is a folder"):
        load_lesson(tmp_path)
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (5 * 1024 * 1024))
    with pytest.raises(LessonError, match="too large"):
        load_lesson(big)


def test_deep_nesting_is_refused():
    with pytest.raises(LessonError):
        parse_lesson("x = " + "[" * 5000 + "]" * 5000, file="x.toml")


def test_matrix_form_with_automatic_and_explicit_names():
    text = """
title = "matrix"
inputs = [0.1, 0.5]
targets = [0.05, 0.95]
[network]
learning_rate = 0.6
[[layers]]
units = 2
[[layers]]
units = 2
activation = "sigmoid"
bias = { name = "b1", value = 0.25 }
weights = [[0.1, 0.3], [0.2, 0.4]]
weight_names = [["w1", "w3"], ["w2", "w4"]]
[[layers]]
units = 2
activation = "sigmoid"
bias = { name = "b2", value = 0.35 }
weights = [[0.5, 0.6], [0.7, 0.8]]
"""
    lesson = parse_lesson(text)
    names = [w.name for w in lesson.network.weights]
    assert names[:4] == ["w1", "w3", "w2", "w4"]
    assert names[4:] == ["w_o1_h1", "w_o1_h2", "w_o2_h1", "w_o2_h2"]
    w3 = next(w for w in lesson.network.weights if w.name == "w3")
    assert (w3.source, w3.target, w3.value) == ("i2", "h1", 0.3)
    # same network as the seed lesson: same E_total
    from tutor.plan.build import build_plan

    seed = load_lesson(LESSONS / "sigmoid-2-2-2.toml")
    assert build_plan(lesson)["E_total"].value == pytest.approx(build_plan(seed)["E_total"].value)


def test_other_classic_wiring_is_expressible():
    text = SEED.replace('w2 = { from = "i1", to = "h2"', 'w2 = { from = "i2", to = "h1"').replace(
        'w3 = { from = "i2", to = "h1"', 'w3 = { from = "i1", to = "h2"'
    )
    lesson = parse_lesson(text)
    from tutor.plan.build import build_plan

    assert build_plan(lesson)["sum_h1"].formula.render() == "i1 · w1 + i2 · w2 + b1"


def test_automatic_weight_names_respect_the_name_limit():
    long = "u" * 30
    text = f"""
title = "long"
inputs = [0.1]
targets = [0.2]
[network]
learning_rate = 0.5
[[layers]]
units = ["{long}1"]
[[layers]]
units = ["{long}2"]
activation = "sigmoid"
weights = [[0.3]]
"""
    one(text, "layers[1].weights", "automatic name")
