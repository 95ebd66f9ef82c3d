"""The installed `tutor` in a real terminal (tmux on a private socket), and without one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_article import ARTICLE

TUTOR = Path(sys.executable).with_name("tutor")

pytestmark = pytest.mark.slow  # real terminals, processes and signals


def need_tmux():
    if shutil.which("tmux") is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is missing: .ci/run must install it")
        pytest.skip("tmux is not installed")


class Tmux:
    """A tmux server of our own (-L) running one command at a fixed size."""

    def __init__(
        self,
        tmp_path: Path,
        command: list[str],
        width: int = 80,
        height: int = 24,
        env: dict[str, str] | None = None,
    ):
        self.socket = f"tutor-test-{os.getpid()}-{id(self)}"
        self.env = {**os.environ, **(env or {})}
        shell_cmd = " ".join(f"'{c}'" for c in command)
        self.run(
            "new-session",
            "-d",
            "-x",
            str(width),
            "-y",
            str(height),
            "-e",
            f"TUTOR_DATA_DIR={self.env['TUTOR_DATA_DIR']}",
            "-e",
            f"TERM={self.env.get('TERM_FOR_TEST', 'xterm-256color')}",
            shell_cmd,
        )

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=20,
        )
        return out.stdout

    def type(self, text: str) -> None:
        self.run("send-keys", "-l", "--", text)

    def key(self, *keys: str) -> None:
        self.run("send-keys", *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p")

    def wait_for(self, predicate, timeout: float = 15.0) -> str:
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"timed out; the screen was:\n{screen}")

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            capture_output=True,
            env=self.env,
            timeout=20,
        )


@pytest.fixture
def tmux_factory(tmp_path):
    made: list[Tmux] = []

    def make(command, **kw):
        t = Tmux(tmp_path, command, **kw)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


def test_article_numbers_typed_into_the_installed_tutor(tmux_factory, seed_plan):
    need_tmux()
    assert TUTOR.exists(), f"the tutor is not installed next to {sys.executable}"
    term = tmux_factory([str(TUTOR), "sigmoid-2-2-2", "--restart", "--no-blink"])
    term.wait_for(lambda s: "sum_h1 =" in s)
    total = len(seed_plan)
    for k, step in enumerate(seed_plan, start=1):
        typed = ARTICLE.get(step.id, f"{step.value:.5f}")
        term.type(typed)
        term.key("Enter")
        if k < total:
            term.wait_for(lambda s, k=k: f"step {k + 1}/{total} " in s and f"score {k}" in s)
    screen = term.wait_for(lambda s: "Lesson complete" in s)
    assert f"Score: {total}/{total}" in screen
    assert "Revealed: none" in screen
    assert "No recognised mistakes" in screen


def test_ascii_mode_under_term_linux(tmux_factory, tmp_path):
    need_tmux()
    # tmux sets TERM for its panes, so set it inside, as a login on the Linux console would
    term = tmux_factory(["env", "TERM=linux", str(TUTOR), "sigmoid-2-2-2", "--no-blink"])
    screen = term.wait_for(lambda s: "sum_h1 =" in s)
    assert "σ" not in screen and "→" not in screen
    assert "->" in screen
    # the side panel shows its texts in ASCII mode too: the intro, a hint, a breakdown
    term.wait_for(lambda s: "About this lesson" in s and "Two inputs feed" in s)
    term.wait_for(lambda s: "step 1/53" in s)  # the session is ready
    term.key("F2")
    term.wait_for(lambda s: "Hints for sum_h1" in s and "net input" in s)
    term.key("F3")
    term.wait_for(lambda s: "Breakdown of sum_h1" in s and "i1*w1 + i2*w3 + b1" in s)


def test_refuses_to_start_without_a_tty(tmp_path):
    out = subprocess.run(
        [str(TUTOR), "sigmoid-2-2-2"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        env={**os.environ, "TUTOR_DATA_DIR": str(tmp_path)},
    )
    assert out.returncode == 2
    assert "needs a terminal" in out.stderr
    assert "\x1b" not in out.stdout + out.stderr
    assert out.stdout == ""


def test_bad_lesson_is_refused_before_the_interface(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("title = [\n")
    out = subprocess.run(
        [str(TUTOR), str(bad)], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )
    assert out.returncode == 2 and "not valid TOML" in out.stderr and "\x1b" not in out.stderr


def _pane_pid(term: Tmux) -> int:
    return int(term.run("display-message", "-p", "#{pane_pid}").strip())


def _gone(pid: int, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
            status = Path(f"/proc/{pid}/status").read_text()
            # a zombie leader may still have threads exiting, holding the open files
            if "State:\tZ" in status and "Threads:\t1\n" in status:
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("sig", ["SIGHUP", "SIGTERM", "SIGKILL"])
def test_signals_lose_nothing_answered(tmux_factory, tmp_path, sig):
    """A dropped SSH link (SIGHUP), SIGTERM and even kill -9 keep every answer given."""
    import json
    import signal

    need_tmux()
    data = tmp_path / "data"
    term = tmux_factory(
        [
            "env",
            f"TUTOR_DATA_DIR={data}",
            "sh",
            "-c",
            f"exec {TUTOR} sigmoid-2-2-2 --no-blink; sleep 30",
        ]
    )
    term.wait_for(lambda s: "sum_h1 =" in s)
    term.type("0.41")
    term.key("Enter")
    term.wait_for(lambda s: "out_h1 =" in s)
    pid = _pane_pid(term)
    os.kill(pid, getattr(signal, sig))
    assert _gone(pid), f"the tutor did not exit on {sig}"
    from tutor.progress.store import ProgressStore

    saved = ProgressStore(data).lesson_state("sigmoid-2-2-2")  # the state file caught up by the log
    assert saved["steps"]["sum_h1"]["status"] == "correct"
    log = (data / "attempts.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["step"] == "sum_h1"
    # the lock is free again: a new session may start
    ProgressStore(data).lock()


def test_closing_the_terminal_leaves_no_tutor_process(tmux_factory, tmp_path):
    """What a dropped SSH link does to the pty: the tutor must not linger, spinning."""
    need_tmux()
    term = tmux_factory([str(TUTOR), "sigmoid-2-2-2", "--no-blink"])
    term.wait_for(lambda s: "sum_h1 =" in s)
    pid = _pane_pid(term)
    term.close()  # kill-server: the pty goes away and the tutor gets SIGHUP
    assert _gone(pid), "the tutor outlived its terminal"


def _wakeups(pid: int) -> int:
    """Context switches of every thread of the process so far: each is one wake-up."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def test_an_idle_tutor_does_not_wake_up(tmux_factory):
    """No polling: a learner who walks away costs the lab host nothing (Textual's own driver
    alone wakes ten times a second)."""
    need_tmux()
    term = tmux_factory(["sh", "-c", f"exec {TUTOR} sigmoid-2-2-2 --restart --no-blink"])
    term.wait_for(lambda s: "sum_h1 =" in s)
    term.type("0.41")
    term.key("Enter")
    term.wait_for(lambda s: "out_h1 =" in s and "Correct" in s)  # the worker has finished
    pid = _pane_pid(term)
    time.sleep(0.5)
    before = _wakeups(pid)
    time.sleep(3.0)
    assert _wakeups(pid) - before <= 3


def test_without_the_quiet_driver_the_tutor_starts_on_textuals_own(tmux_factory, tmp_path):
    """The quiet driver builds on private parts of Textual. When they cannot be imported (a
    Textual release that moved them), the tutor starts on Textual's own driver, which
    works as before and polls ten times a second."""
    need_tmux()
    script = tmp_path / "moved.py"
    script.write_text(
        "import sys\n"
        "sys.modules['tutor.ui.quiet_linux'] = None  # importing it now fails\n"
        "from tutor.cli import main\n"
        "sys.exit(main(['sigmoid-2-2-2', '--restart', '--no-blink']))\n"
    )
    term = tmux_factory([sys.executable, str(script)])
    term.wait_for(lambda s: "sum_h1 =" in s)
    term.type("0.41")
    term.key("Enter")
    term.wait_for(lambda s: "out_h1 =" in s and "Correct" in s)
    pid = _pane_pid(term)
    time.sleep(0.5)
    before = _wakeups(pid)
    time.sleep(2.0)
    assert _wakeups(pid) - before > 10  # Textual's own input thread, polling


class PtyTutor:
    """The installed tutor in a pseudo-terminal of our own, for input no tmux can send:
    a character split across two reads, or a stop and continue."""

    def __init__(self, data: Path):
        import pty

        self.data = data
        env = {**os.environ, "TUTOR_DATA_DIR": str(data), "TERM": "xterm-256color"}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            os.execve(str(TUTOR), [str(TUTOR), "sigmoid-2-2-2", "--no-blink"], env)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.output = b""

    def drain(self, seconds: float) -> None:
        import select

        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([self.fd], [], [], 0.05)[0]:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    return

    def wait_for_output(self, text: bytes, timeout: float = 20.0) -> None:
        end = time.monotonic() + timeout
        while text not in self.output and time.monotonic() < end:
            self.drain(0.1)
        assert text in self.output, f"never showed {text!r}"

    def answered(self, step: str, timeout: float = 15.0) -> bool:
        """Whether the attempt log has ``step`` answered correctly (polled)."""
        import json

        end = time.monotonic() + timeout
        log = self.data / "attempts.jsonl"
        while time.monotonic() < end:
            self.drain(0.1)
            if log.exists():
                for line in log.read_text().splitlines():
                    entry = json.loads(line)
                    if entry["step"] == step and entry["verdict"] == "correct":
                        return True
        return False

    def close(self) -> None:
        import signal

        os.write(self.fd, b"\x11")  # Ctrl+Q
        self.drain(1.0)
        if os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def test_a_character_split_across_reads_keeps_the_keyboard(tmp_path):
    """Over SSH a multi-byte character (é, ×, −) can arrive in two pieces; input must go on."""
    term = PtyTutor(tmp_path / "data")
    try:
        term.wait_for_output(b"sum_h1 =")
        os.write(term.fd, b"\xc3")  # the first half of "é"
        term.drain(0.3)
        os.write(term.fd, b"\xa9")
        term.drain(0.2)
        os.write(term.fd, b"\x7f")  # rub out the é (a key of its own, as typed)
        term.drain(0.2)
        os.write(term.fd, b"0.41\r")
        assert term.answered("sum_h1"), "the keyboard stopped after a split character"
    finally:
        term.close()


def _stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def test_ctrl_z_and_fg_keep_the_tutor_working(tmp_path):
    """A stop (Ctrl+Z) and a continue suspend and resume the interface; keys work after."""
    import signal

    term = PtyTutor(tmp_path / "data")
    try:
        term.wait_for_output(b"sum_h1 =")
        os.kill(term.pid, signal.SIGTSTP)
        end = time.monotonic() + 10
        while not _stopped(term.pid) and time.monotonic() < end:  # Textual stops itself
            term.drain(0.05)
        assert _stopped(term.pid), "the tutor did not stop on Ctrl+Z"
        os.kill(term.pid, signal.SIGCONT)
        term.drain(0.5)
        os.write(term.fd, b"0.41\r")
        assert term.answered("sum_h1"), "keys were lost after a suspend and resume"
    finally:
        term.close()


def test_a_dumb_terminal_gets_no_24_bit_colour(tmp_path):
    """TERM=dumb: Textual would fall back to 24-bit colour; the tutor asks for basic colours."""
    import pty
    import select

    env = {**os.environ, "TUTOR_DATA_DIR": str(tmp_path), "TERM": "dumb"}
    env.pop("COLORTERM", None)
    env.pop("TEXTUAL_COLOR_SYSTEM", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.execve(str(TUTOR), [str(TUTOR), "sigmoid-2-2-2", "--no-blink"], env)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    out = b""
    end = time.monotonic() + 30
    try:
        while b"step 1/53" not in out and time.monotonic() < end:
            if select.select([fd], [], [], 0.1)[0]:
                out += os.read(fd, 65536)
        os.write(fd, b"\x11")  # Ctrl+Q
        end = time.monotonic() + 10
        while time.monotonic() < end and not os.waitpid(pid, os.WNOHANG)[0]:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    pass
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    assert b"step 1/53" in out
    assert b"38;2;" not in out and b"48;2;" not in out
