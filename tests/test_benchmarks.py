"""A quick smoke run of the benchmark scripts: they run and print their figures.

Timing targets are checked by the scripts themselves (benchmarks/), never asserted here.
"""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

BENCH = ROOT / "benchmarks"


def run(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert out.returncode in (0, 1), out.stderr  # 1 = a target missed: reported, not failed
    return out.stdout


def test_startup_benchmark_prints_a_ratio():
    out = run(str(BENCH / "startup.py"), "--runs", "1")
    assert "ratio" in out and "ready to check answers" in out


def test_latency_benchmark_prints_percentiles():
    text = run(str(BENCH / "latency.py"), "--answers", "4")
    assert "p95" in text and "handler" in text


def test_engine_benchmark_prints_its_figure():
    assert "784-128-10" in run(str(BENCH / "engine.py"))


def test_cli_benchmark_prints_a_ratio():
    assert "ratio" in run(str(BENCH / "cli_startup.py"), "--runs", "1")


def test_idle_and_memory_benchmark_prints_both():
    text = run(str(BENCH / "idle_memory.py"), "--idle-seconds", "1")
    assert "idle CPU" in text and "peak RSS" in text and "bare app + NumPy" in text
