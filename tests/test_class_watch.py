"""``tutor class watch``: the dashboard through Pilot (keys, live updates, a student's
attempts), its snapshots at 80x24 and at a projector's size, and the installed command in a
real terminal (tmux, private socket) showing an answer committed by another process within
2 s."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from classhelpers import TUTOR, WRITER, answer_right, session_in, write_course

from tutor.classroom.changes import changes_of
from tutor.classroom.course import load_course
from tutor.classroom.database import open_database
from tutor.classroom.live import Room

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make_class(tmp_path: Path):
    """alice on now and stuck after three wrong tries on her 4th step, bob with one step
    done and gone, carol never here. Times from a fixed clock."""
    folder = write_course(tmp_path / "c")
    db = open_database(load_course(folder))
    ticks = iter(range(1000))
    db.clock = lambda: (T0 + timedelta(seconds=10 * next(ticks))).isoformat()  # type: ignore[method-assign]
    alice = db.progress("alice")
    alice.lock()
    db.backend.run(
        "INSERT INTO sessions (student, host, server, pid, opened) VALUES (?, ?, ?, ?, ?)",
        ("alice", "127.0.0.1", os.uname().nodename, os.getpid(), T0.isoformat()),
    )
    session = session_in(alice)
    answer_right(session, 3)
    for wrong in ("7.77", "7.78", "7.79"):
        session.submit(wrong)
    bob = db.progress("bob")
    bob.lock()
    answer_right(session_in(bob), 1)
    bob.unlock()
    return folder, db, alice


def watch_app(folder: Path, clock=lambda: T0 + timedelta(minutes=2)):
    from tutor.ui.watch import WatchApp

    db = open_database(load_course(folder))
    room = Room(db)
    room.refresh(force_online=True)
    return WatchApp(room, changes_of(db.backend), 5.0, 3, clock=clock)


def cells(app) -> dict[str, list[str]]:
    from tutor.ui.widgets.seats import SeatTable

    table = app.screen.query_one(SeatTable)
    return {
        str(row.key.value): [str(getattr(c, "plain", c)) for c in table.get_row(row.key)]
        for row in table.ordered_rows
    }


async def settle(pilot, condition, seconds: float = 3.0) -> float:
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < seconds, "the condition never held"
        await pilot.pause(0.05)
    return time.monotonic() - began


async def test_the_dashboard_keys_and_a_live_answer(tmp_path, utc):
    from tutor.ui.screens.attempts import AttemptsScreen
    from tutor.ui.widgets.stepchart import StepChart

    folder, db, alice = make_class(tmp_path)
    app = watch_app(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        rows = cells(app)
        assert list(rows) == ["alice", "bob", "carol"]
        assert rows["alice"][0] == "!!" and "3 wrong" in rows["alice"]
        assert "4/53 out_h2" in rows["alice"] and "1/53 sum_h1" not in rows["bob"]
        title = app.screen.query_one("#watch-title").text.plain
        assert "1/3 on" in title and "1 stuck" in title
        await pilot.press("s", "s")  # by name, then progress: the one furthest behind first
        assert list(cells(app)) == ["carol", "bob", "alice"]
        await pilot.press("r")
        assert list(cells(app)) == ["alice", "bob", "carol"]
        await pilot.press("f", "f")  # the stuck ones only
        assert list(cells(app)) == ["alice"]
        await pilot.press("escape")
        assert len(cells(app)) == 3
        await pilot.press("slash", "c", "a", "r")
        assert list(cells(app)) == ["carol"]
        await pilot.press("enter", "escape")
        # alice's attempts
        await pilot.press("up", "up", "up", "enter")
        await pilot.pause()
        assert isinstance(app.screen, AttemptsScreen) and app.screen.student == "alice"
        await pilot.press("escape")
        assert not isinstance(app.screen, AttemptsScreen)
        # the chart: bars for the 53 steps; Tab to it, Right to the next step
        chart = app.screen.query_one(StepChart)
        assert chart.lesson == "sigmoid-2-2-2" and len(chart.bars) == 53
        assert [b.passed for b in chart.bars[:3]] == [2, 1, 1]
        await pilot.press("tab", "right")
        assert chart.cursor == 1
        # carol answers in another process: her row shows it within 2 s of the commit
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(folder), "carol", "1"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        assert proc.stdout.readline().strip() == "sum_h1"  # committed
        waited = await settle(pilot, lambda: cells(app)["carol"][2] == "2/53 out_h1")
        assert waited < 2.0
        proc.communicate(timeout=60)
    alice.unlock()


def test_snapshot_at_80x24(snap_compare, tmp_path, utc):
    folder, db, alice = make_class(tmp_path)
    try:
        assert snap_compare(watch_app(folder), terminal_size=(80, 24))
    finally:
        alice.unlock()


def test_snapshot_at_a_projectors_size(snap_compare, tmp_path, utc):
    folder, db, alice = make_class(tmp_path)
    try:
        assert snap_compare(watch_app(folder), terminal_size=(160, 45))
    finally:
        alice.unlock()


def test_snapshot_of_a_students_attempts(snap_compare, tmp_path, utc):
    folder, db, alice = make_class(tmp_path)

    async def run_before(pilot):
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

    try:
        assert snap_compare(watch_app(folder), terminal_size=(80, 24), run_before=run_before)
    finally:
        alice.unlock()


# --- the installed command in a real terminal
@pytest.mark.slow
def test_watch_in_a_real_terminal_shows_an_answer_within_2_s(tmp_path):
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is missing: .ci/run must install it")
        pytest.skip("tmux is not installed")
    folder = write_course(tmp_path / "c")
    socket = f"tutor-watch-{os.getpid()}"

    def tmux(*args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=20
        ).stdout

    tmux("new-session", "-d", "-x", "80", "-y", "24", "-e", "TERM=xterm-256color",
         f"'{TUTOR}' class watch '{folder}'")  # fmt: skip
    try:
        end = time.monotonic() + 20
        while "0/3 on" not in tmux("capture-pane", "-p"):
            assert time.monotonic() < end, tmux("capture-pane", "-p")
            time.sleep(0.1)
        writer = subprocess.Popen(
            [sys.executable, str(WRITER), str(folder), "bob", "2", "3"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        assert writer.stdout.readline().strip() == "sum_h1"  # committed now
        committed = time.monotonic()
        screen = ""
        while "2/53 out_h1" not in screen:
            assert time.monotonic() - committed < 2.0, screen
            time.sleep(0.05)
            screen = tmux("capture-pane", "-p")
        bob = next(line for line in screen.splitlines() if " bob " in line)
        assert "2/53 out_h1" in bob and "1/3 on" in screen
        writer.communicate(timeout=30)
        tmux("send-keys", "q")
        end = time.monotonic() + 10
        while tmux("list-sessions"):
            assert time.monotonic() < end, "q did not end the dashboard"
            time.sleep(0.1)
    finally:
        tmux("kill-server")
