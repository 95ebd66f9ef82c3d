"""The summaries the class database keeps with each answer (:mod:`tutor.classroom.summaries`)
give the views the very figures that reading every event gives: the report of a scripted
class of 40 (SQLite and a real PostgreSQL server) with and without them, filtered or not,
an old database brought up to date by the migration, and a summary that no longer matches
the events table (an event written by hand) not used."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from classhelpers import answer_right, session_in, write_course
from classscript import STUDENTS, scripted_class

from tutor.classroom.activity import ClassLog
from tutor.classroom.course import load_course
from tutor.classroom.database import open_database
from tutor.classroom.figures import Filters, report_data
from tutor.classroom.live import Room
from tutor.classroom.schema import MIGRATIONS


def report(folder: Path, filters: Filters | None = None) -> dict:
    db = open_database(load_course(folder))
    try:
        return report_data(db, filters or Filters())
    finally:
        db.close()


def forget_summaries(folder: Path) -> None:
    """The summaries gone: every view reads every event, as before they were kept."""
    db = open_database(load_course(folder))
    try:
        db.backend.run("DELETE FROM summaries", ())
    finally:
        db.close()


def read_every_event(folder: Path) -> bool:
    db = open_database(load_course(folder))
    try:
        log = ClassLog(db.backend, keep=False)
        log.from_summaries(states=False)
        return not log.complete
    finally:
        db.close()


FILTERS = [
    Filters(),
    Filters(students=[STUDENTS[3], STUDENTS[11], STUDENTS[20]]),
    Filters(lessons=["sigmoid-2-2-2"]),
]


def the_same_either_way(folder: Path) -> None:
    assert not read_every_event(folder)  # every answer went through the store
    kept = [report(folder, f) for f in FILTERS]
    forget_summaries(folder)
    assert read_every_event(folder)
    again = [report(folder, f) for f in FILTERS]
    for a, b in zip(kept, again, strict=True):
        assert json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False)
    assert kept[0]["events"] > 300 and kept[1]["questions"] != kept[0]["questions"]


def test_summaries_give_the_figures_every_event_gives(tmp_path):
    folder = tmp_path / "week3"
    scripted_class(folder)
    the_same_either_way(folder)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_summaries_on_postgresql_give_the_same_figures(tmp_path, backend, pg_server):
    folder = tmp_path / "week3"
    scripted_class(folder, pg_server.new_database())
    the_same_either_way(folder)


def test_a_database_made_before_the_summaries_is_counted_by_the_migration(tmp_path):
    """A class database of schema 1 with answers in it: opened by this tutor, its events
    are summarised once, and the report is the one the events give."""
    folder = tmp_path / "week3"
    scripted_class(folder)
    want = report(folder)
    conn = sqlite3.connect(folder / "class.db")
    tables = ["summaries", "entries", "event_facts", "step_stats", "step_words"]
    with conn:
        for table in tables:
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DELETE FROM migrations WHERE version > 1")
    conn.close()
    assert len(MIGRATIONS) >= 2
    assert not read_every_event(folder)  # migrated: summarised
    assert json.dumps(report(folder)) == json.dumps(want)


def test_an_event_written_by_hand_is_read_not_missed(tmp_path):
    """An event the store did not write (no summary counts it): that student's events are
    read, and the report counts it; the next answer through the store counts it too."""
    folder = write_course(tmp_path / "c")
    db = open_database(load_course(folder))
    bob = db.progress("bob")
    bob.lock()
    session = session_in(bob)
    answer_right(session, 2)
    text = db.backend.run("SELECT entry FROM events ORDER BY id DESC LIMIT 1")[0][0]
    db.backend.run(
        "INSERT INTO events (student, at, entry) VALUES (?, ?, ?)", ("carol", db.clock(), text)
    )
    assert read_every_event(folder)
    data = report(folder)
    cells = {s["student"]: s["lessons"]["sigmoid-2-2-2"] for s in data["students"]}
    assert cells["carol"] is not None and cells["bob"]["score"] == 2.0
    room = Room(db)
    room.refresh()
    assert room.seats["carol"].events == 1 and room.seats["bob"].events == 2
    answer_right(session, 1)
    carol = db.progress("carol")
    carol.lock()
    answer_right(session_in(carol), 1)  # her summary now counts the one written by hand
    assert not read_every_event(folder)
    kept = report(folder)
    assert kept["events"] == 5
    forget_summaries(folder)
    assert json.dumps(report(folder)) == json.dumps(kept)
    db.close()


def test_the_dashboard_reads_the_same_room_from_the_summaries(tmp_path):
    """Every seat and the lesson's steps, from the summaries' cut states and from every
    event."""
    folder = tmp_path / "week3"
    scripted_class(folder)

    def room() -> tuple[list, list]:
        db = open_database(load_course(folder))
        try:
            r = Room(db)
            r.refresh(force_online=True)
            return r.rows(), r.lesson_view("sigmoid-2-2-2")
        finally:
            db.close()

    kept = room()
    forget_summaries(folder)
    again = room()
    assert kept == again
    seats, bars = kept
    assert sum(s.events for s in seats) > 300 and sum(b.answered for b in bars) > 100
    assert any(s.step_wrong for s in seats) or any(s.last_mistake for s in seats)
