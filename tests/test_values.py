"""Value: immutable classes with dataclass manners, made without compiling code at import."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tutor.formula import Given, Num, Sum
from tutor.lesson import Weight
from tutor.values import Value, factory, replace


class Point(Value):
    x: float
    y: float = 0.0
    tags: Mapping[str, str] = factory(dict)
    cache: Mapping[str, float] = factory(dict)
    _hidden = frozenset({"cache"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "norm", abs(self.x) + abs(self.y))


class Labelled(Point):
    label: str = ""


def test_parts_come_from_annotations_in_order_with_defaults():
    p = Point(1.0, tags={"a": "b"})
    assert Point._parts == ("x", "y", "tags", "cache")
    assert Labelled._parts == ("x", "y", "tags", "cache", "label")
    assert (p.x, p.y, p.tags) == (1.0, 0.0, {"a": "b"})
    assert p.norm == 1.0  # __post_init__ ran
    assert Point(1.0).tags is not Point(1.0).tags  # a fresh dict each time


def test_equal_by_class_and_shown_parts_and_hashed_alike():
    assert Point(1.0, 2.0) == Point(x=1.0, y=2.0)
    assert Point(1.0, 2.0) != Point(1.0, 3.0)
    assert Point(1.0) != Labelled(1.0)  # another class is never equal
    assert Point(1.0, cache={"k": 1.0}) == Point(1.0)  # hidden parts are not compared
    assert repr(Point(1.0, cache={"k": 1.0})) == "Point(x=1.0, y=0.0, tags={})"
    a, b = Sum((Given("w1", 0.1), Num(2.0))), Sum((Given("w1", 0.1), Num(2.0)))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Sum((Given("w1", 0.1), Num(3.0)))


def test_immutable():
    p = Point(1.0)
    with pytest.raises(AttributeError, match="Point is immutable"):
        p.x = 2.0
    with pytest.raises(AttributeError, match="immutable"):
        del p.x
    with pytest.raises(AttributeError, match="Num is immutable"):
        Num(1.0).value = 2.0


def test_bad_construction_names_the_part():
    with pytest.raises(TypeError, match="Point needs 'x'"):
        Point()
    with pytest.raises(TypeError, match="'z'"):
        Point(1.0, z=2)
    with pytest.raises(TypeError, match="'x'"):
        Point(1.0, x=2.0)
    with pytest.raises(TypeError, match="at most 4"):
        Point(1, 2, {}, {}, 5)


def test_replace_keeps_the_rest_even_a_part_called_value():
    w = Weight("w1", "i1", "h1", 0.1, 1)
    moved = replace(w, value=0.5)
    assert (moved.name, moved.value) == ("w1", 0.5) and w.value == 0.1
    p = replace(Point(1.0, 2.0, cache={"k": 1.0}), y=5.0)
    assert (p.x, p.y, p.cache, p.norm) == (1.0, 5.0, {"k": 1.0}, 6.0)
    with pytest.raises(TypeError, match="Weight has no part 'weight'"):
        replace(w, weight=1.0)


def test_copies_are_equal_values_and_a_nan_equals_itself():
    import copy

    from tutor.lesson import load_lesson
    from tutor.plan import build_plan

    nan = Num(float("nan"))
    assert nan == nan  # as a dataclass compares: the same object counts as equal
    lesson = load_lesson(__import__("conftest").LESSONS / "sigmoid-2-2-2.toml")
    step = next(iter(build_plan(lesson)))
    for value in (Num(1.0, "1"), Point(1.0, 2.0), lesson, step):
        assert copy.copy(value) == value
        assert copy.deepcopy(value) == value
    assert copy.deepcopy(Point(1.0)).norm == 1.0
