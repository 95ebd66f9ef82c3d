"""`tutor class serve` end to end: the real OpenSSH client, in a real terminal (tmux), against
the installed tutor's class server on 127.0.0.1.

Students log in with the keys of the roster (or bind one with an enrolment code), answer
steps, are cut off and come back where they were; their answers are in the class database,
never in their own files. Wrong keys, unknown students, commands, sftp and forwarding are
refused with a message; a second login takes the first one over; exams open on the
student's own seed and end at their time limit; a dead link is found by the keepalives.
"""

from __future__ import annotations

import copy
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_ssh import Relay, free_port
from test_terminal import TUTOR, Tmux, need_tmux

from tutor.classroom.course import init_course, load_course
from tutor.classroom.database import open_database

pytestmark = pytest.mark.slow  # a real server, real ssh clients, real terminals

CODE = "K7QM-2XWD"


def need_ssh() -> None:
    need_tmux()
    missing = [p for p in ("ssh", "ssh-keygen", "sftp") if shutil.which(p) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing} missing: .ci/run installs openssh-client")
        pytest.skip("needs openssh-client")
    try:
        import asyncssh  # noqa: F401
    except ImportError:
        pytest.fail("asyncssh is missing: the test extra installs it")


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


class ClassFixture:
    """A course folder with alice (a key), bob (an enrolment code) and carol (a key), and its
    server running as `tutor class serve`."""

    def __init__(
        self, tmp: Path, course_extra: str = "", server: str = "", args: tuple[str, ...] = ()
    ):
        need_ssh()
        self.tmp = tmp
        self.folder = tmp / "course"
        init_course(self.folder, "Test class")
        self.keys = {who: tmp / who for who in ("alice", "bob", "carol", "mallory")}
        pub = {who: keygen(path) for who, path in self.keys.items()}
        (self.folder / "course.toml").write_text(
            'title = "Test class"\nlessons = ["sigmoid-2-2-2", "classic-2-2-2"]\n'
            + course_extra
            + (f"\n[server]\n{server}\n" if server else ""),
            encoding="utf-8",
        )
        (self.folder / "roster.toml").write_text(
            f'[students.alice]\nkeys = ["{pub["alice"]}"]\n\n'
            f'[students.bob]\ncode = "{CODE}"\n\n'
            f'[students.carol]\nkeys = ["{pub["carol"]}"]\n',
            encoding="utf-8",
        )
        self.home = tmp / "home"  # the students' own progress folder: must stay empty
        self.home.mkdir()
        self.args = args
        self.start_server(tmp / "server.log")
        self.terms: list[Tmux] = []

    def start_server(self, log: Path, port: int | None = None) -> None:
        """`tutor class serve` on the course folder, on ``port`` or a free one, its log in
        ``log``."""
        self.port = port or free_port()
        self.log = log
        env = {**os.environ, "TUTOR_DATA_DIR": str(self.home)}
        with self.log.open("w") as err:
            self.proc = subprocess.Popen(
                [
                    TUTOR,
                    "class",
                    "serve",
                    str(self.folder),
                    "--port",
                    str(self.port),
                    "--keepalive",
                    "1",
                    *self.args,
                ],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )
        started = self.wait_log("event=started", timeout=60)
        # the Python it runs on is named (the memory per session depends on it)
        assert f" python={platform.python_version()}" in started, started

    def second_server(self) -> ClassFixture:
        """Another server on the same course folder (another lab host): the same keys and
        terminals, its own port, process and log."""
        other = copy.copy(self)  # shares the list of terminals, closed by this fixture
        other.start_server(self.tmp / f"server-{free_port()}.log")
        return other

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def wait_log(self, pattern: str, timeout: float = 20.0, after: int = 0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in self.lines()[after:]:
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no log line {pattern!r}; the log:\n{self.log.read_text()}")

    def ssh_args(
        self, who: str, name: str | None = None, *extra: str, port: int | None = None
    ) -> list[str]:
        return [
            "ssh",
            "-i",
            str(self.keys[who]),
            "-p",
            str(port or self.port),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            *extra,
            f"{name or who}@127.0.0.1",
        ]

    def terminal(self, who: str, *extra: str, term_type: str | None = None) -> Tmux:
        command = self.ssh_args(who, None, "-tt", *extra)
        if term_type is not None:  # tmux sets TERM in its panes: set it for ssh alone
            command = ["env", f"TERM={term_type}", *command]
        # run by a script that waits once ssh has ended, so that its last words stay on screen
        script = self.tmp / f"ssh-{len(self.terms)}.sh"
        script.write_text(f"{shlex.join(command)}\necho '[ssh ended]'\nsleep 120\n")
        term = Tmux(self.tmp, ["sh", str(script)], env={"TUTOR_DATA_DIR": str(self.home)})
        self.terms.append(term)
        return term

    def run(
        self,
        who: str,
        *extra: str,
        name: str | None = None,
        command: str | None = None,
        timeout: float = 20,
    ) -> subprocess.CompletedProcess[str]:
        argv = self.ssh_args(who, name, *extra) + ([command] if command else [])
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )

    def state(self, name: str) -> dict:
        database = open_database(load_course(self.folder))
        try:
            return database.progress(name).lessons()
        finally:
            database.close()

    def close(self) -> None:
        for term in self.terms:
            term.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def lab(tmp_path):
    fixture = ClassFixture(tmp_path)
    yield fixture
    fixture.close()


def pane_process(term: Tmux) -> int:
    """The ssh client's pid: the pane's process (the shell runs it with exec) or its child."""
    pid = int(term.run("list-panes", "-F", "#{pane_pid}").split()[0])
    if Path(f"/proc/{pid}/comm").read_text().strip() == "ssh":
        return pid
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == pid and (entry / "comm").read_text().strip() == "ssh":
                    return int(entry.name)
            except OSError:
                continue
    raise AssertionError("no ssh client in the pane")


def session_pid(line: str) -> int:
    return int(re.search(r" pid=(\d+)", line).group(1))


def open_first_lesson(term: Tmux) -> str:
    term.wait_for(lambda s: "choose a lesson" in s, timeout=30)
    term.key("Enter")
    return term.wait_for(lambda s: "sum_h1 =" in s, timeout=30)


def test_a_student_answers_is_cut_off_and_resumes_where_they_were(lab):
    term = lab.terminal("alice")
    open_first_lesson(term)
    term.type("0.41")
    term.key("Enter")
    term.wait_for(lambda s: "out_h1 =" in s)
    line = lab.wait_log(r"event=session student=alice")
    pid = session_pid(line)
    # the session runs in a process of its own, on a pty, with the client's terminal type
    assert re.search(r" term=\S+-256color size=80x24", line)  # tmux's own TERM
    assert os.readlink(f"/proc/{pid}/fd/0").startswith("/dev/pts/")

    before = len(lab.lines())
    os.kill(pane_process(term), signal.SIGKILL)  # the client dies; the server hangs up
    lab.wait_log(r"event=logout student=alice .*how=dropped", after=before)
    end = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists(), "the session outlived its client"

    saved = lab.state("alice")["sigmoid-2-2-2"]
    assert saved["steps"]["sum_h1"]["status"] == "correct"
    assert list(lab.home.iterdir()) == [], "the student's own files were written"

    again = lab.terminal("alice")
    again.wait_for(lambda s: "choose a lesson" in s and "1/53" in s, timeout=30)
    again.key("Enter")
    screen = again.wait_for(lambda s: "Welcome back at step 2 of 53" in s, timeout=30)
    assert "out_h1 =" in screen and "✓" in screen
    again.key("C-q")
    lab.wait_log(r"event=logout student=alice .*how=quit", after=before)


def test_wrong_keys_and_unknown_students_are_refused(lab):
    wrong = lab.run("mallory", name="alice", command=None)
    assert wrong.returncode == 255 and "Permission denied (publickey)" in wrong.stderr
    unknown = lab.run("alice", name="zed")
    assert unknown.returncode == 255 and "Permission denied (publickey)" in unknown.stderr
    bad_name = lab.run("alice", name="Robert'); DROP")
    assert bad_name.returncode == 255
    lab.wait_log(r"event=refused .*student=zed why=no-key-accepted")
    # carol's key is carol's, not alice's: identity comes from the key, not the name typed
    assert lab.run("carol", name="alice").returncode == 255


def test_commands_sftp_and_forwarding_are_refused_with_a_message(lab):
    done = lab.run("alice", command="cat /etc/passwd")
    assert done.returncode == 1 and "this server only runs the tutor" in done.stderr
    assert "root:" not in done.stdout
    sftp = subprocess.run(
        [
            "sftp",
            "-P",
            str(lab.port),
            "-i",
            str(lab.keys["alice"]),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "alice@127.0.0.1",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        stdin=subprocess.DEVNULL,
    )
    assert sftp.returncode != 0 and "sftp: this server only runs the tutor" in sftp.stderr
    remote = lab.run("alice", "-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9")
    assert remote.returncode == 255 and "remote port forwarding failed" in remote.stderr

    local = free_port()
    forward = subprocess.Popen(
        [
            "LogLevel=INFO" if word == "LogLevel=ERROR" else word  # ssh says why it failed
            for word in lab.ssh_args("alice", None, "-N", "-L", f"{local}:127.0.0.1:{lab.port}")
        ],
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + 15
        while time.monotonic() < end:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", local)) == 0:
                    s.settimeout(5)
                    assert s.recv(100) == b""  # closed: nothing came through
                    break
            time.sleep(0.1)
        lab.wait_log(r"event=refused student=alice .*why=port-forwarding")
    finally:
        forward.terminate()
        _, err = forward.communicate(timeout=10)
    assert "forwarding is not allowed on this server" in err
    for why in ("exec", "subsystem-sftp", "remote-forwarding"):
        lab.wait_log(rf"event=refused student=alice .*why={why}")


def test_an_enrolment_code_binds_the_key_the_student_proved(lab):
    term = lab.terminal("bob")
    term.wait_for(lambda s: "Enrolment code:" in s, timeout=30)
    term.type("WRNG-CODE")
    term.key("Enter")
    term.wait_for(lambda s: "That is not your enrolment code" in s)
    assert "WRNG" not in term.screen()  # not echoed
    term.type(CODE)
    term.key("Enter")
    term.wait_for(lambda s: "choose a lesson" in s, timeout=30)
    term.key("C-q")
    lab.wait_log(r"event=logout student=bob")
    # the key is bound: it logs bob in without a code; the code is spent for any other key
    again = lab.terminal("bob")
    again.wait_for(lambda s: "choose a lesson" in s, timeout=30)
    again.key("C-q")
    other = lab.run("mallory", name="bob")
    assert other.returncode == 255 and "Permission denied" in other.stderr


def test_a_second_login_takes_the_first_over(lab):
    out = lab.tmp / "first.out"
    with out.open("wb") as sink:  # the first client's terminal output, byte for byte
        first = subprocess.Popen(
            lab.ssh_args("alice", None, "-tt"),
            stdin=subprocess.PIPE,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        lab.wait_log(r"event=session student=alice", timeout=30)
        second = lab.terminal("alice")
        second.wait_for(lambda s: "choose a lesson" in s, timeout=30)
        assert first.wait(timeout=15) == 0
        assert b"This session was taken over by a new login of yours." in out.read_bytes()
        lab.wait_log(r"event=logout student=alice .*how=taken-over")
        second.key("C-q")
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def test_terminal_size_language_and_colour_reach_the_session(lab):
    term = lab.terminal("carol", "-o", "SetEnv=NO_COLOR=1 LANG=C.UTF-8 SECRET=1")
    term.wait_for(lambda s: "choose a lesson" in s, timeout=30)
    line = lab.wait_log(r"event=session student=carol")
    assert ' env="LANG=C.UTF-8,NO_COLOR=1"' in line and "SECRET" not in line  # as AcceptEnv
    term.run("resize-window", "-x", "100", "-y", "30")
    term.wait_for(lambda s: any(line.rstrip() == "─" * 100 for line in s.splitlines()))
    term.key("C-q")
    # a terminal without Unicode gets the tutor's ASCII drawing, as from `tutor` itself
    old = lab.terminal("alice", term_type="vt220")
    old.wait_for(lambda s: "choose a lesson" in s, timeout=30)
    old.key("Enter")
    screen = old.wait_for(lambda s: "sum_h1 =" in s, timeout=30)
    assert "->" in screen and "→" not in screen
    old.key("C-q")


def test_a_dead_link_is_found_by_the_keepalives(lab):
    relay = Relay(lab.port)
    relay.start()
    command = lab.ssh_args("alice", None, "-tt", port=relay.port)
    term = Tmux(lab.tmp, command, env={"TUTOR_DATA_DIR": str(lab.home)})
    lab.terms.append(term)
    try:
        open_first_lesson(term)
        pid = session_pid(lab.wait_log(r"event=session student=alice"))
        relay.dead.set()  # no FIN, no RST: the link goes silent
        started = time.monotonic()
        lab.wait_log(r"event=logout student=alice .*how=dropped", timeout=30)
        assert time.monotonic() - started < 15  # keepalive 1 s: found within 4 s, and slack
        assert not Path(f"/proc/{pid}").exists()
    finally:
        relay.stop.set()


def test_the_session_cap_turns_students_away_with_a_message(tmp_path):
    lab = ClassFixture(tmp_path, server="max_sessions = 1")
    try:
        first = lab.terminal("alice")
        first.wait_for(lambda s: "choose a lesson" in s, timeout=30)
        full = lab.run("carol", "-tt")
        assert full.returncode == 1
        assert "the class is full (1 sessions); please try again later" in full.stdout
        lab.wait_log(r"event=refused student=carol .*why=sessions-full")
    finally:
        lab.close()


def test_logins_in_progress_are_capped_with_a_message(tmp_path):
    lab = ClassFixture(tmp_path, args=("--max-logins", "1"))
    try:
        with socket.create_connection(("127.0.0.1", lab.port)):  # a login that hangs
            time.sleep(0.5)
            turned = lab.run("alice", "-tt")
        assert turned.returncode == 255
        assert "too many logins at once; please try again in a few seconds" in turned.stderr
        lab.wait_log(r"event=refused .*student=alice why=logins-full")
        assert lab.run("alice", command="x").returncode == 1  # with the slot free: in
    finally:
        lab.close()


def test_an_exam_opens_on_the_students_seed_and_ends_at_its_limit(tmp_path):
    now = datetime.now(UTC)
    opens = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    closes = (now + timedelta(hours=1)).isoformat(timespec="seconds")
    exam = (
        f'\n[[exams]]\nlesson = "sigmoid-2-2-2"\nopens = {opens}\ncloses = {closes}\nminutes = 30\n'
    )
    lab = ClassFixture(tmp_path, course_extra=exam)
    try:
        database = open_database(load_course(lab.folder))
        seed = database.exam_seed("alice", "sigmoid-2-2-2")
        database.exam_start("alice", "sigmoid-2-2-2")
        # the student started 29 minutes and 50 seconds ago: ten seconds are left
        database.backend.run(
            "UPDATE exams SET started = ? WHERE student = ?",
            ((now - timedelta(minutes=29, seconds=50)).isoformat(), "alice"),
        )
        database.close()
        term = lab.terminal("alice")
        # no picker: the exam, on the student's own numbers
        screen = term.wait_for(lambda s: "step 1/" in s, timeout=30)
        assert f"seed {seed}" in screen and "[exam]" in screen and "sum_h1 =" in screen
        term.key("F2")
        term.wait_for(lambda s: "No hints during an exam" in s)
        term.type("123")
        term.key("Enter")
        term.wait_for(lambda s: "Not accepted" in s)
        term.wait_for(lambda s: "Time is up for your exam on sigmoid-2-2-2" in s, timeout=30)
        saved = lab.state("alice")[f"sigmoid-2-2-2@seed={seed}#exam"]
        assert saved["steps"]["sum_h1"]["attempts"] == 1  # the answer is kept
        # logging in again: the exam stays shut, the picker says why
        again = lab.terminal("alice")
        again.wait_for(lambda s: "choose a lesson" in s, timeout=30)
        again.key("Enter")
        again.wait_for(lambda s: "Your time for the exam on" in s and "is up;" in s)
        again.key("C-q")
    finally:
        lab.close()


def test_an_exam_that_allows_hints_gives_them_and_nothing_more(tmp_path):
    now = datetime.now(UTC)
    opens = (now - timedelta(hours=1)).isoformat(timespec="seconds")
    exam = f'\n[[exams]]\nlesson = "sigmoid-2-2-2"\nopens = {opens}\nminutes = 30\nhints = true\n'
    lab = ClassFixture(tmp_path, course_extra=exam)
    try:
        term = lab.terminal("alice")
        # the footer offers F2 (it may be painted a frame after the step)
        screen = term.wait_for(
            lambda s: "step 1/" in s and "sum_h1 =" in s and "Hint" in s, timeout=30
        )
        assert "[exam]" in screen
        term.key("F2")
        term.wait_for(lambda s: "Hint 1 of 3." in s and "Hint 1:" in s)
        assert "F4 reveals" not in term.screen()
        term.key("F4")
        term.wait_for(lambda s: "No reveals during an exam." in s)
        term.key("F3")
        term.wait_for(lambda s: "No breakdowns during an exam" in s)
        term.key("C-q")
        lab.wait_log(r"event=logout student=alice .*how=quit")
        seed = open_database(load_course(lab.folder)).exam_seed("alice", "sigmoid-2-2-2")
        saved = lab.state("alice")[f"sigmoid-2-2-2@seed={seed}#exam"]
        assert saved["steps"]["sum_h1"]["hints_asked"] == 1
    finally:
        lab.close()


def test_the_dashboard_shows_an_answer_of_a_real_ssh_session_within_2_s(lab):
    """`tutor class watch` in a real terminal while a student answers over ssh: the student
    comes on, and their answer shows on the dashboard within 2 s of its verdict."""
    watch = Tmux(lab.tmp, [TUTOR, "class", "watch", str(lab.folder)], env={
        "TUTOR_DATA_DIR": str(lab.home)})  # fmt: skip
    lab.terms.append(watch)
    watch.wait_for(lambda s: "0/3 on" in s, timeout=30)
    term = lab.terminal("alice")
    open_first_lesson(term)
    watch.wait_for(lambda s: "1/3 on" in s, timeout=10)  # alice is on
    term.type("0.41")
    term.key("Enter")
    term.wait_for(lambda s: "out_h1 =" in s)  # the verdict shows: the answer is committed
    shown = time.monotonic()
    screen = watch.wait_for(lambda s: "2/53 out_h1" in s, timeout=10)
    assert time.monotonic() - shown < 2.0, screen
    alice = next(line for line in screen.splitlines() if " alice " in line)
    assert "2/53 out_h1" in alice
    term.key("C-q")
