"""The engine process gives the plan exactly the numbers the in-process engine gives, and
every way it can fail ends in one clear error (and, for the app, a plan computed here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tutor import engine_process
from tutor.engine_process import EngineProcessError, compute, numbers_for, pack, unpack
from tutor.lesson import load_lesson
from tutor.plan import build_plan

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("*.toml"))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_step_matches_the_engine_run_here(path):
    lesson = load_lesson(path)
    here, there = build_plan(lesson), build_plan(*compute(lesson))
    assert type(there.numbers).__name__ == "RemoteNumbers"
    mine, theirs = here.complete(), there.complete()
    assert [s.id for s in theirs] == [s.id for s in mine]
    for a, b in zip(mine, theirs, strict=True):
        assert b.value == a.value, a.id  # the same float64 arithmetic: equal, not close
        assert b.formula.render() == a.formula.render(), a.id
        assert b.meaning == a.meaning, a.id
    assert there.loss_history(20) == here.loss_history(20)
    assert there.loss_history(3) == here.loss_history(3)
    if lesson.training is not None:
        assert there.training_history() == here.training_history()


VARIANT_LESSONS = [p for p in LESSONS if load_lesson(p).variants is not None]


@pytest.mark.parametrize("path", VARIANT_LESSONS, ids=lambda p: p.stem)
@pytest.mark.parametrize("seed", [0, 7, 4711])
def test_a_variant_drawn_there_is_the_variant_drawn_here(path, seed):
    from tutor.variants import draw_variant

    mine = draw_variant(load_lesson(path), seed)
    theirs, numbers = compute(load_lesson(path), seed)
    assert theirs == mine and theirs.seed == seed
    here, there = build_plan(mine), build_plan(theirs, numbers)
    for a, b in zip(here.complete(), there.complete(), strict=True):
        assert b == a
        assert b.formula.render() == a.formula.render(), a.id


@pytest.mark.parametrize(
    ("old", "new"), [("value = 0.5 }", "value = 0.55 }"), ("decimals = 5", "decimals = 4")]
)
def test_a_lesson_file_changed_since_it_was_read_is_refused(tmp_path, old, new):
    """A weight, or anything else that shapes a variant (here the decimals its draws are
    checked against), changed in the file between the tutor's reading and the engine's."""
    path = tmp_path / "seed.toml"
    path.write_text(SEED.read_text())
    lesson = load_lesson(path)
    assert old in SEED.read_text()
    path.write_text(SEED.read_text().replace(old, new, 1))
    with pytest.raises(EngineProcessError, match="lesson file has changed"):
        compute(lesson, seed=3)


def test_a_variant_of_a_lesson_without_a_file_is_computed_here(monkeypatch):
    from tutor.lesson import parse_lesson

    monkeypatch.delitem(sys.modules, "numpy", raising=False)
    lesson = parse_lesson(SEED.read_text(), lesson_id="typed-in")
    assert lesson.path is None
    assert numbers_for(lesson, seed=3) is None


def test_a_big_compact_network_goes_through_the_process():
    lesson = load_lesson(ROOT / "benchmarks" / "lessons" / "mlp-72-64-10.toml")
    here, there = build_plan(lesson), build_plan(*compute(lesson))
    assert len(there) == len(here) > 10_000
    for a, b in zip(here, there, strict=False):
        assert b == a
        if b.phase == "update":
            break


def test_the_reply_format_round_trips_and_refuses_damage():
    data = pack({"total": 1.5}, {"m": ((2, 3), bytes(range(48))), "e": ((0,), b"")})
    meta, blocks = unpack(data)
    assert meta == {"total": 1.5}
    assert blocks["m"].shape == (2, 3) and blocks["e"] == ()
    with pytest.raises(EngineProcessError, match="cut short"):
        unpack(data[:-8])
    with pytest.raises(EngineProcessError, match="longer"):
        unpack(data + b"\0" * 8)
    with pytest.raises(EngineProcessError, match="no header"):
        unpack(b"garbage")
    with pytest.raises(EngineProcessError, match="bad header"):
        unpack(b"{not json\n")
    with pytest.raises(EngineProcessError, match="bad header"):
        unpack(b'{"meta": {}, "blocks": 5}\n')
    for shape in ("[-1]", "[1.5]", '"x"'):
        with pytest.raises(EngineProcessError, match="bad block"):
            unpack(b'{"meta": {}, "blocks": [["m", ' + shape.encode() + b"]]}\n")


SEED = ROOT / "lessons" / "sigmoid-2-2-2.toml"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("import sys; sys.exit(3)", "failed: exit code 3"),
        (
            "import sys; print('ValueError: no', file=sys.stderr); sys.exit(1)",
            "failed: ValueError: no",
        ),
        ("""print('{"meta": {}, "blocks": []}')""", "reply lacks 'z0'"),
        ("import sys; sys.stdout.write('x')", "no header"),
        ("import time; time.sleep(30)", "took more than 0.5 s"),
    ],
)
def test_a_failing_engine_process_is_one_clear_error(monkeypatch, code, message):
    monkeypatch.setattr(engine_process, "_command", lambda: [sys.executable, "-c", code])
    with pytest.raises(EngineProcessError, match=message):
        compute(load_lesson(SEED), timeout=0.5)


def test_an_engine_process_that_cannot_start_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(engine_process, "_command", lambda: [str(tmp_path / "no-python")])
    with pytest.raises(EngineProcessError, match="could not start"):
        compute(load_lesson(SEED))


def test_a_fresh_tutor_gets_its_numbers_from_the_process(monkeypatch):
    monkeypatch.delitem(sys.modules, "numpy", raising=False)  # as in a fresh tutor: not loaded yet
    lesson, numbers = numbers_for(load_lesson(SEED))
    assert type(numbers).__name__ == "RemoteNumbers" and lesson == load_lesson(SEED)


def test_the_app_falls_back_to_the_engine_here(monkeypatch):
    monkeypatch.setattr(engine_process, "_command", lambda: [sys.executable, "-c", "1/0"])
    monkeypatch.delitem(sys.modules, "numpy", raising=False)
    assert numbers_for(load_lesson(SEED)) is None


def test_with_numpy_loaded_already_the_numbers_are_computed_here():
    import numpy  # noqa: F401

    assert numbers_for(load_lesson(SEED)) is None


def test_a_learners_own_numpy_py_is_not_imported(monkeypatch, tmp_path):
    (tmp_path / "numpy.py").write_text("raise SystemExit('the wrong numpy')\n")
    (tmp_path / "tutor").mkdir()  # nor a directory that shadows the package
    monkeypatch.chdir(tmp_path)
    _, numbers = compute(load_lesson(SEED))
    assert numbers.trace.total == build_plan(load_lesson(SEED)).trace.total


def test_quitting_ends_an_engine_process_at_once(monkeypatch, tmp_path):
    """Closing the tutor while the engine process works ends that process: the tutor
    neither waits for it (here it would take 30 s) nor computes the numbers itself."""
    import asyncio
    import time

    from apphelpers import make_app

    monkeypatch.setattr(
        engine_process, "_command", lambda: [sys.executable, "-c", "import time; time.sleep(30)"]
    )
    monkeypatch.delitem(sys.modules, "numpy", raising=False)
    app = make_app(tmp_path)

    async def main() -> None:
        async with app.run_test() as pilot:
            await pilot.pause(0.5)  # the worker is waiting for the engine process
            assert engine_process._live, "no engine process was started"
            await pilot.press("ctrl+q")

    start = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - start < 10
    assert not engine_process._live
    assert "numpy" not in sys.modules
