"""Shared fixtures: the project's lessons and a clean per-test environment."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """Keep the user's own lesson folders and progress out of every test."""
    monkeypatch.delenv("TUTOR_LESSONS_PATH", raising=False)
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def seed_plan():
    from tutor.lesson.reader import load_lesson
    from tutor.plan.build import build_plan

    return build_plan(load_lesson(LESSONS / "sigmoid-2-2-2.toml"))


def all_lesson_files() -> list[Path]:
    return sorted(LESSONS.glob("*.toml"))


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server for the class database tests (tests/pgserver.py)."""
    from pgserver import PgServer, binaries

    bindir = binaries()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed here (Debian: apt-get install postgresql)")
    server = PgServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.close()
