"""Measure the tutor as installed, with its bytecode compiled (pip compiles it at install).

A stale bytecode cache where writing it is switched off (PYTHONDONTWRITEBYTECODE) makes
every run compile the changed modules from source: slower, and bigger at its peak.
"""

from __future__ import annotations

import compileall
import importlib.util


def compile_tutor() -> None:
    spec = importlib.util.find_spec("tutor")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(folder, quiet=1)
