"""The core never imports Textual: checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = [
    "tutor.lesson",
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
