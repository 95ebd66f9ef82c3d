"""Two lab hosts, one PostgreSQL class database: two `tutor class serve` processes on two
ports against a real PostgreSQL server (tests/pgserver.py), students logged in on both with
the real ssh client in real terminals, one gradebook with everyone's answers, and the one
session per student rule held across the hosts."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
from test_class_server import ClassFixture, open_first_lesson
from test_terminal import TUTOR

pytestmark = pytest.mark.slow  # a real PostgreSQL, two servers, real ssh clients


@pytest.fixture
def two_hosts(pg_server, tmp_path):
    url = pg_server.new_database()
    first = ClassFixture(tmp_path, course_extra=f'database = "{url}"\n')
    second = None
    try:
        second = first.second_server()
        yield first, second
    finally:
        if second is not None:
            second.terms = []  # the first fixture closes the shared terminals
            second.close()
        first.close()


def answer(term, value: str, next_prompt: str) -> None:
    term.type(value)
    term.key("Enter")
    term.wait_for(lambda s: next_prompt in s)


def gradebook(folder) -> dict[str, dict[str, str]]:
    done = subprocess.run(
        [TUTOR, "class", "export", str(folder)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return {row["student"]: row for row in csv.DictReader(io.StringIO(done.stdout))}


def test_students_on_two_hosts_land_in_one_gradebook(two_hosts):
    host_a, host_b = two_hosts
    assert host_a.port != host_b.port
    alice = host_a.terminal("alice")
    carol = host_b.terminal("carol")
    open_first_lesson(alice)
    open_first_lesson(carol)
    answer(alice, "0.41", "out_h1 =")  # right: sum_h1 of the seed lesson
    answer(carol, "0.41", "out_h1 =")
    answer(carol, "0.60108", "sum_h2 =")  # out_h1 = sigmoid(0.41), to the tutor's tolerance
    host_a.wait_log(r"event=session student=alice")
    host_b.wait_log(r"event=session student=carol")
    # each answer is in the one database, as either host reads it
    assert host_b.state("alice")["sigmoid-2-2-2"]["steps"]["sum_h1"]["status"] == "correct"
    carol_steps = host_a.state("carol")["sigmoid-2-2-2"]["steps"]
    assert {k for k, v in carol_steps.items() if v["status"] == "correct"} == {"sum_h1", "out_h1"}

    book = gradebook(host_a.folder)
    assert set(book) == {"alice", "bob", "carol"}  # bob has not logged in: still a row
    assert book["alice"]["online"] == "yes" and book["carol"]["online"] == "yes"
    assert book["bob"]["online"] == "no" and book["bob"]["sigmoid-2-2-2"] == ""
    assert book["alice"]["sigmoid-2-2-2"] != "" and book["carol"]["sigmoid-2-2-2"] != ""
    assert float(book["carol"]["sigmoid-2-2-2"]) > float(book["alice"]["sigmoid-2-2-2"])
    alice.key("C-q")
    carol.key("C-q")
    host_a.wait_log(r"event=logout student=alice .*how=quit")
    host_b.wait_log(r"event=logout student=carol .*how=quit")


def test_one_session_per_student_holds_across_hosts(two_hosts):
    host_a, host_b = two_hosts
    first = host_a.terminal("alice")
    open_first_lesson(first)
    answer(first, "0.41", "out_h1 =")
    # the same student on the other host: refused, told where the open session is
    second = host_b.terminal("alice")
    screen = second.wait_for(lambda s: "[ssh ended]" in s, timeout=30).replace("\n", "")
    assert "tutor: another session of yours is already open (on " in screen  # (host, time)
    assert "close it first" in screen  # the line wraps at 80 columns
    host_b.wait_log(r"event=logout student=alice .*how=refused")
    # the first session was not touched: it answers on, and its answers are kept
    answer(first, "0.60108", "sum_h2 =")
    assert "taken over" not in first.screen()
    steps = host_b.state("alice")["sigmoid-2-2-2"]["steps"]
    assert steps["out_h1"]["status"] == "correct"
    # once it ends, the other host lets the student in, where they were
    first.key("C-q")
    host_a.wait_log(r"event=logout student=alice .*how=quit")
    again = host_b.terminal("alice")
    again.wait_for(lambda s: "choose a lesson" in s, timeout=30)
    again.key("Enter")
    again.wait_for(lambda s: "Welcome back at step 3 of 53" in s, timeout=30)
    again.key("C-q")
    host_b.wait_log(r"event=logout student=alice .*how=quit")
