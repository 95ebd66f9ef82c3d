"""The core never imports Textual: checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CORE = [
    "tutor.values",
    "tutor.lesson",
    "tutor.layout",
    "tutor.numbers",
    "tutor.engine_process",
    "tutor.engine",
    "tutor.plan",
    "tutor.formula",
    "tutor.arrays",
    "tutor.solution",
    "tutor.locations",
    "tutor.cli",
]


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
def test_a_lesson_session_loads_only_what_it_uses(tmp_path, seed):
    """Every module stays resident in every learner's process on a lab host: a lesson or a
    seeded variant (as a lab gives each student), worked through to its summary, loads no
    NumPy (the engine process computes its numbers and draws the variant), no OpenSSL
    (``secrets`` and ``numpy.random`` pull in hashlib), no variant drawing and no drills."""
    code = textwrap.dedent(
        """
        import asyncio, io, os, sys
        os.environ["TUTOR_DATA_DIR"] = sys.argv[1]
        from tutor import app as app_module
        from tutor.launch import launch

        async def drive(app, seed):
            async with app.run_test() as pilot:
                for _ in range(400):
                    if app.session is not None:
                        break
                    await pilot.pause()
                assert app.session is not None, "the session was never built"
                assert type(app.session.plan.numbers).__name__ == "RemoteNumbers"
                assert app.session.plan.lesson.seed == seed
                await pilot.press(*"0.3775", "enter")  # a wrong answer: diagnosed
                box = app.screen.query_one("#answer")
                while (step := app.session.current) is not None:
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
        unused = ("numpy", "secrets", "hashlib", "tutor.variants", "tutor.drill")
        print(sorted(m for m in unused if m in sys.modules))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), str(seed)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
