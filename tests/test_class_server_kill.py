"""`kill -9` of the class server, and of its preloaded process, while a student answers
over the real ssh client in a real terminal (tmux).

- The server killed: its ptys close, so every session hangs up and ends (no session process
  is left running), the preloaded process sees its pipe close and ends too, the client is
  disconnected; every answer whose verdict showed is in the class database; the server
  starts again on the same folder and port, and the student resumes where they were.
- The preloaded process killed: the sessions it forked run on (their terminals belong to the
  server), their answers are saved, they end as usual; the next login starts it again.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
from test_class_server import ClassFixture, open_first_lesson, session_pid

pytestmark = pytest.mark.slow  # a real server, real ssh clients, real terminals, signals


@pytest.fixture
def lab(tmp_path):
    fixture = ClassFixture(tmp_path)
    yield fixture
    fixture.close()


def running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while running(pid) and time.monotonic() < end:
        time.sleep(0.1)
    return not running(pid)


def preload_pid(lab: ClassFixture, after: int = 0) -> int:
    line = lab.wait_log(r"event=(started|restarted) .*preload_pid=", after=after)
    return int(re.search(r" preload_pid=(\d+)", line).group(1))


def right(term, value: str, next_prompt: str) -> None:
    term.type(value)
    term.key("Enter")
    term.wait_for(lambda s: next_prompt in s)


def test_kill_9_of_the_server_loses_no_answer_and_the_student_resumes(lab):
    term = lab.terminal("alice")
    open_first_lesson(term)
    right(term, "0.41", "out_h1 =")  # its verdict showed: committed
    session = session_pid(lab.wait_log(r"event=session student=alice"))
    preload = preload_pid(lab)
    server = lab.proc.pid
    term.type("0.60108")
    term.key("Enter")  # the next answer is on its way as the server dies
    os.kill(server, signal.SIGKILL)
    lab.proc.wait(timeout=10)

    assert wait_gone(session), "the session outlived its server"
    assert wait_gone(preload), "the preloaded process outlived its server"
    term.wait_for(lambda s: "[ssh ended]" in s, timeout=30)  # the client was let go
    steps = lab.state("alice")["sigmoid-2-2-2"]["steps"]
    assert steps["sum_h1"]["status"] == "correct"
    # the answer in flight is either all there (counted, right) or not at all
    assert "out_h1" not in steps or steps["out_h1"]["status"] == "correct"
    resume_at = 3 if "out_h1" in steps else 2

    port = lab.port
    lab.start_server(lab.tmp / "server-again.log", port=port)  # same folder, same port
    again = lab.terminal("alice")
    again.wait_for(lambda s: "choose a lesson" in s, timeout=30)
    again.key("Enter")
    again.wait_for(lambda s: f"Welcome back at step {resume_at} of 53" in s, timeout=30)
    again.key("C-q")
    lab.wait_log(r"event=logout student=alice .*how=quit")


def test_kill_9_of_the_preloaded_process_leaves_sessions_running(lab):
    term = lab.terminal("alice")
    open_first_lesson(term)
    right(term, "0.41", "out_h1 =")
    session = session_pid(lab.wait_log(r"event=session student=alice"))
    preload = preload_pid(lab)
    before = len(lab.lines())
    os.kill(preload, signal.SIGKILL)
    assert wait_gone(preload)

    # alice goes on: her session is hers, on the server's pty; her answers are saved
    right(term, "0.60108", "sum_h2 =")
    assert running(session)
    steps = lab.state("alice")["sigmoid-2-2-2"]["steps"]
    assert steps["out_h1"]["status"] == "correct"
    assert lab.proc.poll() is None  # the server lives on

    # a new login starts the preloaded process again, and gets a session
    carol = lab.terminal("carol")
    carol.wait_for(lambda s: "choose a lesson" in s, timeout=60)
    lab.wait_log(r"event=error .*preloaded process .* ended", after=before)
    assert preload_pid(lab, after=before) != preload
    carol.key("C-q")
    lab.wait_log(r"event=logout student=carol .*how=quit", after=before)

    # alice quits as usual: her session ends, her logout is logged
    term.key("C-q")
    lab.wait_log(r"event=logout student=alice .*how=quit", after=before)
    assert wait_gone(session), "an orphaned session process was left running"
