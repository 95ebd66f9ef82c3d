"""The core never imports Textual: checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tutor"

#: every module of the core: everything but the interface (tutor.ui) and the command line
CORE = sorted(
    ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    for p in PACKAGE.rglob("*.py")
    if p.relative_to(PACKAGE).parts[0] not in ("ui", "cli", "__main__.py")
)


def test_the_core_is_all_there():
    assert {"tutor.lesson.reader", "tutor.engine", "tutor.plan.build", "tutor.catalog"} <= set(CORE)
    assert len(CORE) > 30


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_textual(module):
    code = f"import sys, {module}; print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "command",
    [["list"], ["solve", "sigmoid-2-2-2", "--format", "json"], ["validate", "sigmoid-2-2-2"]],
)
def test_commands_run_without_textual(command):
    code = (
        "import sys, runpy; sys.argv = ['tutor', *sys.argv[1:]];"
        "from tutor.cli import main; rc = main(sys.argv[1:]);"
        "assert not any(m.startswith('textual') for m in sys.modules), 'textual imported';"
        "sys.exit(rc)"
    )
    out = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("seed", [None, 7], ids=["lesson", "variant"])
def test_numpy_loads_after_the_first_paint(tmp_path, seed):
    """The first prompt is painted before NumPy is imported (a good part of start-up),
    for the lesson and for a seeded variant as a lab gives each student; the lesson then
    works through to its summary. A lesson's session loads no OpenSSL (not even for the
    seeds of fresh drills)."""
    code = textwrap.dedent(
        """
        import asyncio, io, os, sys
        os.environ["TUTOR_DATA_DIR"] = sys.argv[1]
        from tutor.cli.interactive import launch
        from tutor.opening import Opening
        from tutor.ui import app as app_module

        # the session is made in a worker started after the first paint: NumPy is not
        # loaded until then
        at_first_paint = []
        original = Opening.session

        def session(opening, *args):
            at_first_paint.append("numpy" in sys.modules)
            return original(opening, *args)

        Opening.session = session

        async def drive(app, seed):
            async with app.run_test() as pilot:
                for _ in range(400):
                    if app.session is not None:
                        break
                    await pilot.pause()
                assert app.session is not None, "the session was never built"
                assert app.session.plan.lesson.seed == seed
                await pilot.press(*"0.3775", "enter")  # a wrong answer: diagnosed
                box = app.screen.query_one("#answer")
                while app.session is not None and (step := app.session.current) is not None:
                    box.value = f"{step.value:.6f}"
                    await pilot.press("enter")
                for _ in range(100):
                    if type(app.screen).__name__ == "SummaryScreen":
                        break
                    await pilot.pause()
                assert type(app.screen).__name__ == "SummaryScreen"

        class Terminal(io.StringIO):
            def isatty(self):
                return True

        seed = None if sys.argv[2] == "None" else int(sys.argv[2])
        # the real command line, with Pilot in place of the terminal
        app_module.TutorApp.run = lambda app, *a, **k: asyncio.run(drive(app, seed))
        out, sys.stdin, sys.stdout = sys.stdout, Terminal(), Terminal()
        rc = launch(["sigmoid-2-2-2", "--no-blink"] + ([] if seed is None else ["--seed", str(seed)]))
        sys.stdout = out
        assert rc == 0, rc
        print(at_first_paint[:1], sorted(m for m in ("secrets", "hashlib") if m in sys.modules))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), str(seed)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    first_paint, openssl = out.stdout.strip().splitlines()[-1].split(" ", 1)
    assert first_paint == "[False]"
    if seed is None:  # a variant's numbers come from numpy.random, which loads it
        assert openssl == "[]"
