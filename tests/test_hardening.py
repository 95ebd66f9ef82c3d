"""Hardening: fuzzed lessons and keys, hostile text, tiny and huge terminals, extreme numbers.

Every bad lesson fails as a clean ``FILE: where: what`` within a time bound; the app never
raises on random keys or resizes; nothing in a lesson is executed or interpreted as markup or
terminal escapes.
"""

from __future__ import annotations

import builtins
import math
import random
import re
import subprocess
import sys
import time

import pytest
from apphelpers import make_app, run, screen_text
from conftest import LESSONS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor.lesson.model import LessonError
from tutor.lesson.reader import parse_lesson
from tutor.numfmt import fmt_value
from tutor.plan.build import build_plan

SEED = (LESSONS / "sigmoid-2-2-2.toml").read_text()
SEED_LINES = SEED.splitlines()
JUNK_VALUES = [
    '"x"',
    "nan",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "[]",
    "{}",
    "true",
    "0",
    "-1",
    "[[1, 2], [3]]",
    '"i1"',
    '"o1"',
    '"w1"',
    "1e-300",
    '"sum_h1"',
    '"[b]"',
]


def parse_ok_or_clean_error(text: str | bytes) -> None:
    start = time.process_time()  # CPU time: a hang guard that a busy machine cannot trip
    try:
        lesson = parse_lesson(text, file="fuzz.toml")
    except LessonError as err:
        assert err.problems, "an error without problems"
        for p in err.problems:
            line = str(p)
            assert line.startswith("fuzz.toml: ") and "\n" not in p.where
    else:
        plan = build_plan(lesson)
        assert all(math.isfinite(s.value) or math.isinf(s.value) for s in list(plan)[:60])
    assert time.process_time() - start < 5.0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_random_text_is_never_a_crash(text):
    parse_ok_or_clean_error(text)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_are_never_a_crash(data):
    parse_ok_or_clean_error(data)


@st.composite
def near_valid(draw) -> str:
    """The seed lesson with a few lines changed: values swapped for junk, lines dropped or
    repeated, names changed, wiring reversed."""
    lines = list(SEED_LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["value", "drop", "repeat", "rename", "reverse"]))
        line = lines[i]
        if kind == "value" and "=" in line:
            key = line.split("=", 1)[0]
            lines[i] = f"{key}= {draw(st.sampled_from(JUNK_VALUES))}"
        elif kind == "drop":
            lines.pop(i)
        elif kind == "repeat":
            lines.insert(i, line)
        elif kind == "rename":
            lines[i] = line.replace("h1", draw(st.sampled_from(["o1", "h2", "x y", "e", "sum_q"])))
        elif kind == "reverse" and "from" in line:
            lines[i] = (
                line.replace('from = "i', 'from = "TMP')
                .replace('to = "h', 'from = "h')
                .replace('from = "TMP', 'to = "i')
            )
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("junk", ["[1]", '["sigmoid"]', "{ a = 1 }", "{}"])
def test_a_list_or_table_where_a_string_belongs_fails_cleanly(junk):
    """Every `key = "text"` line of the seed lesson given a list or a table instead: a clear
    problem each time (a name looked up in a table of names must not crash)."""
    checked = 0
    for i, line in enumerate(SEED_LINES):
        if not re.match(r'\s*\w+ = "', line):
            continue
        lines = list(SEED_LINES)
        lines[i] = f"{line.split('=', 1)[0]}= {junk}"
        with pytest.raises(LessonError):
            parse_lesson("\n".join(lines), file="x.toml")
        checked += 1
    assert checked >= 5


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid())
def test_near_valid_lessons_fail_cleanly(text):
    parse_ok_or_clean_error(text)


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 3000 + "]" * 3000,
        'title = "t"\n' + "a = 1\n" * 200_000,
        SEED.replace('w5 = { from = "h1", to = "o1"', 'w5 = { from = "o1", to = "h1"'),  # a cycle
        SEED.replace("value = 0.5 }", "value = 1e400 }"),
        SEED.replace("0.25 }", "nan }"),
    ],
)
def test_pathological_lessons_are_refused_quickly(text):
    parse_ok_or_clean_error(text)


def test_ten_megabytes_and_garbage_via_the_cli(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"title = 'x'\n" + b"# padding\n" * 1_100_000)
    garbage = tmp_path / "garbage.toml"
    garbage.write_bytes(random.Random(1).randbytes(20_000))
    latin = tmp_path / "latin.toml"
    latin.write_bytes("title = 'café'".encode("latin-1"))
    for path in (big, garbage, latin, tmp_path, tmp_path / "missing.toml"):
        out = subprocess.run(  # the timeout is the time bound: a hang fails the test
            [sys.executable, "-m", "tutor", "solve", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1


def test_nothing_in_a_lesson_is_executed(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/compile called")

    from tutor.grading.grade import Grader

    text = SEED.replace('title = "', "title = \"__import__('os').system('echo hi') ", 1)
    # warm up first: importing our own modules legitimately runs exec inside importlib
    Grader(build_plan(parse_lesson(SEED))).grade("sum_h1", "0.16")
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    lesson = parse_lesson(text)
    plan = build_plan(lesson)
    verdict = Grader(plan).grade("sum_h1", "__import__('os').system('echo hi')")
    candidates = Grader(plan).candidates(plan["sum_h1"])
    monkeypatch.undo()
    assert verdict.verdict == "invalid" and candidates
    assert lesson.title.startswith("__import__")


MARKUP = "[bold red]markup[/] [b] [link=https://x]l[/link] <b>html</b> *md* " + "L" * 3000
ESCAPES = "\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b]52;c;Zm9v\x07 \u202eevil\u202c \u2066iso\u2069"
HOSTILE = MARKUP[:60] + ESCAPES + MARKUP[60:]


async def test_hostile_text_is_shown_literally(tmp_path):
    import json

    def toml_str(s: str) -> str:  # a TOML basic string: JSON's escaping is compatible
        return json.dumps(s, ensure_ascii=True)

    def lesson_with(hostile: str) -> str:
        start = SEED.index('title = "')
        end = SEED.index("\n", start)
        intro_start = SEED.index('intro = """')
        intro_end = SEED.index('"""', intro_start + 11) + 3
        text = (
            SEED[:start]
            + f"title = {toml_str(hostile[:120])}"
            + SEED[end:intro_start]
            + f"intro = {toml_str(hostile)}"
            + SEED[intro_end:]
        )
        hint = f'[hints]\n"sum_h1" = [{toml_str(hostile[:200])}]\n'
        return text.replace("[hints]\n", hint, 1)

    # escape sequences and bidi controls: refused where the file is read, each one named
    with pytest.raises(LessonError) as refused:
        parse_lesson(lesson_with(HOSTILE))
    where = [p.where for p in refused.value.problems]
    assert where == ["title", "intro", "hints.sum_h1[0]"], where
    assert all("\x1b" not in str(p) and "\u202e" not in str(p) for p in refused.value.problems)
    # markup is only text: shown literally
    app = make_app(tmp_path, text=lesson_with(MARKUP))
    async with run(app, size=(120, 40)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        shown = screen_text(app)
        assert "[bold red]markup[/]" in shown and "[b]" in shown and "<b>html</b>" in shown
    out = subprocess.run(
        [sys.executable, "-m", "tutor", "solve", "-"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2


def test_cli_output_has_no_raw_escapes(tmp_path):
    f = tmp_path / "hostile.toml"
    f.write_text(SEED.replace('title = "', 'title = "\\u001b]0;pwned\\u0007 \\u001b[31m ', 1))
    for args in (
        ["solve", str(f)],
        ["solve", str(f), "--format", "markdown"],
        ["solve", str(f), "--format", "json"],
    ):
        out = subprocess.run(
            [sys.executable, "-m", "tutor", *args], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 2 and "\x1b" not in out.stdout + out.stderr, args
        assert "title: contains U+001B (ESCAPE)" in out.stderr, out.stderr


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "f1",
                    "f2",
                    "f3",
                    "f4",
                    "f5",
                    "f6",
                    "f7",
                    "up",
                    "down",
                    "enter",
                    "escape",
                    "tab",
                    "backspace",
                    "ctrl+t",
                    "ctrl+b",
                    "ctrl+r",
                    "ctrl+n",
                    "ctrl+o",
                    "1",
                    "0",
                    ".",
                    "4",
                    "-",
                    "e",
                    "x",
                    "(",
                    ")",
                    "*",
                    "/",
                ]
            ),
            st.tuples(st.integers(20, 300), st.integers(5, 100)),
        ),
        max_size=30,
    )
)
def test_random_keys_and_resizes_never_crash(tmp_path_factory, keys):
    import asyncio

    async def go():
        app = make_app(tmp_path_factory.mktemp("keys"))
        async with run(app, size=(80, 24)) as pilot:
            for key in keys:
                if isinstance(key, tuple):
                    await pilot.resize_terminal(*key)
                else:
                    await pilot.press(key)
            await pilot.pause()
            session = app.session
            if session is not None:
                assert 0 <= session.index < len(session.plan)
                assert session.score <= session.total_asked
                for rec in session.records.values():
                    assert rec.misses <= rec.attempts

    asyncio.run(go())


@pytest.mark.parametrize("size", [(40, 12), (60, 20), (80, 24), (120, 40), (300, 100)])
async def test_every_terminal_size_renders(tmp_path, size):
    app = make_app(tmp_path)
    async with run(app, size=size) as pilot:
        await pilot.press("f2", "f3", "f1")
        await pilot.pause()
        text = screen_text(app)
        small = size[0] < 72 or size[1] < 22
        assert ("enlarge the terminal" in text) == small
        for w, h in ((300, 100), (40, 12), (80, 24)):
            await pilot.resize_terminal(w, h)
            await pilot.pause()
        assert "enlarge" not in screen_text(app)


def test_extreme_numbers_stay_finite_and_format_sensibly():
    text = SEED
    for k, w in enumerate(["50", "-50", "50", "-50", "50", "-50", "50", "-50"], start=1):
        text = text.replace(f"value = 0.{k} }}", f"value = {w} }}")
    plan = build_plan(parse_lesson(text))
    assert all(math.isfinite(s.value) for s in plan)
    tiny = [s for s in plan if s.value != 0 and abs(s.value) < 1e-6]
    assert tiny, "saturated sigmoids should give vanishing gradients here"
    from tutor.grading.grade import Grader

    g = Grader(plan)
    for s in tiny[:5]:
        # smaller than the 5-decimal band: asked with its sign and 2 significant figures,
        # unless so small that it may be rounding noise
        zero = g.grade(s.id, "0").verdict
        assert zero == ("incorrect" if abs(s.value) >= 1e-12 else "correct")
        shown = fmt_value(s.value, 5)
        assert "e" in shown and not shown.startswith("−0.00000")
        assert g.grade(s.id, fmt_value(s.value, 5, ascii_minus=True)).verdict == "correct"
    assert fmt_value(-1e-13, 5) != "-0.00000" and fmt_value(-0.0, 5) == "0.00000"
    assert fmt_value(-0.000001, 5).startswith("−1.0000e")
