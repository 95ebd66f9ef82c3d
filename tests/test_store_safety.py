"""Progress is never silently thrown away, and hostile or failing files never crash or hang
the tutor: a log shorter than the state, records of the wrong shape, FIFOs, folders and
links in place of progress files, unreadable and unwritable files, a full disk, and standard
output that cannot be written. Every test works on real files (a real FIFO, real links, a
real small filesystem where the machine allows it)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pty
import select
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import LESSONS

from tutor.catalog import open_lesson
from tutor.lesson.reader import load_lesson
from tutor.opening import LessonRecorder, Opening
from tutor.progress.interface import ProgressUnusable
from tutor.progress.store import LOCK_FILE, LOG_FILE, STATE_FILE, ProgressStore
from tutor.session import QuizSession

SEED = load_lesson(LESSONS / "sigmoid-2-2-2.toml")
NOT_SAVED = "Your answers cannot be saved"


# --- helpers
def env_for(data: Path) -> dict[str, str]:
    return {**os.environ, "TUTOR_DATA_DIR": str(data)}


def tutor(
    *args: str, data: Path, prefix: tuple[str, ...] = (), **kw
) -> subprocess.CompletedProcess:
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("capture_output", True)
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tutor", *args],
        text=True,
        env=env_for(data),
        timeout=30,  # a hang guard: a FIFO once blocked these commands for ever
        **kw,
    )


def one_line_error(out: subprocess.CompletedProcess, *words: str) -> str:
    """The command failed with exit 2 and exactly one line on stderr, naming ``words``."""
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr
    assert len(lines) == 1 and lines[0].startswith("tutor: "), out.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def strict_json(text: str):
    """JSON as other programs read it: no Infinity or NaN."""

    def refuse(name: str):
        raise ValueError(f"{name} in the output")

    return json.loads(text, parse_constant=refuse)


def session_in(store: ProgressStore, mode: str = "learn", seed: int | None = None) -> QuizSession:
    recorder = LessonRecorder(store, "sigmoid-2-2-2", seed, mode)
    return QuizSession(open_lesson(SEED, seed), recorder=recorder, mode=mode)


def answer_right(session: QuizSession, n: int) -> None:
    for _ in range(n):
        outcome = session.submit(f"{session.current.value:.6f}")
        assert outcome.advanced, outcome.message


VARIANT = "sigmoid-2-2-2@seed=7"


def progress_in(data: Path, learn: int = 4, variant: int = 1) -> ProgressStore:
    """A learner's folder with ``learn`` answers on the lesson and ``variant`` on its
    variant of seed 7 (a second entry)."""
    store = ProgressStore(data)
    answer_right(session_in(store), learn)
    if variant:
        answer_right(session_in(store, seed=7), variant)
    store.flush()
    return store


def right_steps(store: ProgressStore, key: str = "sigmoid-2-2-2") -> set[str]:
    steps = store.lessons().get(key, {}).get("steps", {})
    return {k for k, r in steps.items() if r.get("status") == "correct"}


def log_lines(data: Path) -> list[bytes]:
    return (data / LOG_FILE).read_bytes().split(b"\n")


def aside(data: Path, name: str) -> list[Path]:
    return sorted(data.glob(f"{name}.*-*"))


def private(data: Path) -> None:
    """Every file the tutor made is 0600, in a 0700 folder."""
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    for f in data.iterdir():
        assert stat.S_IMODE(os.lstat(f).st_mode) == 0o600, f


def learner_prefix() -> tuple[str, ...]:
    """Run a command so that permission bits apply to it. Root ignores them; inside a new
    user namespace (``unshare -U``) root's own files are checked by their owner bits like
    anyone's, so a chmod 000 file is unreadable there too."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("unshare") is None:
        pytest.skip("running as root, and without unshare(1) permission bits cannot bite")
    probe = subprocess.run(["unshare", "-U", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("running as root, and user namespaces are not allowed here")
    return ("unshare", "-U")


def run_app_in_pty(args: list[str], data: Path, seconds: float = 30) -> tuple[int, str]:
    """Start the app on a real terminal and collect everything until it exits."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execvpe(
            sys.executable,
            [sys.executable, "-m", "tutor", *args],
            {**env_for(data), "TERM": "xterm-256color", "TUTOR_NO_BLINK": "1"},
        )
    out = bytearray()
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        else:
            os.kill(pid, 9)
            pytest.fail(f"the app did not exit: {bytes(out)[-300:]!r}")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


# --- progress is never silently thrown away
@pytest.mark.parametrize("how", ["deleted", "cut short", "an older copy"])
def test_answers_the_state_holds_survive_a_shorter_log(tmp_path, how):
    """Four saved answers once became "No progress yet" when the log was shorter than the
    state file expected: they are kept, the learner is told, the session keeps a copy of
    the state file, and the next answers join them."""
    data = tmp_path / "data"
    store = ProgressStore(data)
    s = session_in(store)
    answer_right(s, 1)
    older = (data / LOG_FILE).read_bytes()
    answer_right(s, 3)
    store.flush()
    log = data / LOG_FILE
    if how == "deleted":
        log.unlink()
    elif how == "cut short":
        log.write_bytes(log.read_bytes()[: len(older) // 2])
    else:
        log.write_bytes(older)
    state_before = (data / STATE_FILE).read_bytes()

    reader = ProgressStore(data)
    assert len(right_steps(reader)) == 4
    assert any("shorter" in w and STATE_FILE in w for w in reader.warnings), reader.warnings
    out = tutor("progress", "--format", "json", data=data)
    assert out.returncode == 0 and strict_json(out.stdout)[0]["correct"] == 4
    assert "shorter" in out.stderr

    session = ProgressStore(data)
    session.lock()
    try:
        assert len(right_steps(session)) == 4
        kept = aside(data, STATE_FILE)
        assert [p.read_bytes() for p in kept] == [state_before]  # a copy, as it was
        nxt = Opening(session, SEED).session()  # resumed where the learner stopped
        answer_right(nxt, 1)
        session.flush()
    finally:
        session.unlock()
    again = ProgressStore(data)
    assert len(right_steps(again)) == 5 and again.warnings == []
    private(data)


def test_a_reset_logged_after_the_state_was_saved_still_wins(tmp_path):
    """What only the state file holds is kept, but an entry the log reset later is not
    brought back by that."""
    data = tmp_path / "data"
    progress_in(data, learn=4, variant=1)
    state = (data / STATE_FILE).read_bytes()
    first = log_lines(data)[0]
    time.sleep(1.1)  # the reset is logged after the variant's last change, to the second
    reset = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "event": "reset"}
    reset["lesson_key"] = VARIANT
    (data / LOG_FILE).write_bytes(first + b"\n" + json.dumps(reset).encode() + b"\n")
    (data / STATE_FILE).write_bytes(state)  # expects the longer log it was saved with
    reader = ProgressStore(data)
    assert len(right_steps(reader)) == 4  # kept from the state file
    assert VARIANT not in reader.lessons()  # reset after: stays reset


def _shape(data: Path, where: str, edit: str) -> bytes:
    """Give ``where`` (state.json or attempts.jsonl) one record of the wrong shape."""
    if where == STATE_FILE:
        text = (data / STATE_FILE).read_text()
        state = json.loads(text)
        learn = state["lessons"]["sigmoid-2-2-2"]
        if edit == "entry 5":
            state["lessons"]["sigmoid-2-2-2"] = 5
        elif edit == "steps [1]":
            learn["steps"] = [1]
        elif edit == "asked 5":
            learn["asked"] = 5
        elif edit == "elapsed Infinity":
            learn["elapsed"] = float("inf")  # json.dumps writes Infinity
        elif edit == "attempts x":
            learn["steps"]["out_h1"]["attempts"] = "x"
        raw = json.dumps(state).encode()
        (data / STATE_FILE).write_bytes(raw)
        return raw
    lines = log_lines(data)
    entry = json.loads(lines[1])
    if edit == "attempts x":
        entry["record"]["attempts"] = "x"
    elif edit == "elapsed Infinity":
        entry["elapsed"] = float("inf")
    lines[1] = json.dumps(entry).encode()
    raw = b"\n".join(lines)
    (data / LOG_FILE).write_bytes(raw)
    (data / STATE_FILE).unlink()  # read from the log
    return raw


SHAPES = [
    (STATE_FILE, "entry 5", 'lessons["sigmoid-2-2-2"]: not an object'),
    (STATE_FILE, "steps [1]", "steps: not an object"),
    (STATE_FILE, "asked 5", "asked: not a list"),
    (STATE_FILE, "elapsed Infinity", "elapsed: not a finite number"),
    (STATE_FILE, "attempts x", "attempts: not a whole number"),
    (LOG_FILE, "attempts x", "line 2: record.attempts: not a whole number"),
    (LOG_FILE, "elapsed Infinity", "line 2: elapsed: not a finite number"),
]


@pytest.mark.parametrize(("where", "edit", "said"), SHAPES)
def test_a_record_of_the_wrong_shape_is_set_aside_and_the_rest_kept(tmp_path, where, edit, said):
    """Valid JSON of the wrong shape once crashed the app (AttributeError at start, a lesson
    that could not open) and the commands (OverflowError on Infinity). Now the bad record is
    left out with one line naming the file and what was wrong, the rest is kept (a state
    file's record is recovered from the log), the session keeps a copy of the file as it
    was, and no output carries Infinity."""
    data = tmp_path / "data"
    progress_in(data, learn=4, variant=1)
    raw = _shape(data, where, edit)

    for args in (["progress"], ["progress", "--format", "json"], ["export", "--format", "json"]):
        out = tutor(*args, data=data)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
        told = [line for line in out.stderr.splitlines() if said in line]
        assert len(told) == 1 and told[0].startswith(f"tutor: {where}: "), out.stderr
    rows = strict_json(tutor("progress", "--format", "json", data=data).stdout)
    by_key = {r["key"]: r for r in rows}
    expected = 3 if where == LOG_FILE else 4  # the bad log line's answer is set aside
    assert by_key["sigmoid-2-2-2"]["correct"] == expected
    assert by_key[VARIANT]["correct"] == 1
    strict_json(tutor("export", "--format", "json", data=data).stdout)

    store = ProgressStore(data)
    store.lock()
    try:
        opened = Opening(store, SEED)
        session = opened.session()  # the lesson opens and goes on
        assert sum(r.status == "correct" for r in session.records.values()) == expected
        answer_right(session, 1)
        assert [p.read_bytes() for p in aside(data, where)] == [raw]  # never deleted
        store.flush()
    finally:
        store.unlock()
    again = ProgressStore(data)
    assert again.warnings == [] and len(right_steps(again)) == expected + 1
    private(data)


# --- FIFOs, folders and links in place of progress files
@pytest.mark.parametrize("name", [STATE_FILE, LOG_FILE])
def test_a_fifo_in_place_of_a_progress_file_is_named_not_waited_on(tmp_path, name):
    data = tmp_path / "data"
    progress_in(data)
    (data / name).unlink()
    os.mkfifo(data / name, 0o600)
    for args in (["progress"], ["export"], ["export", "--attempts"], ["reset", "--all", "--yes"]):
        one_line_error(tutor(*args, data=data), data.name, name, "FIFO")
    with pytest.raises(ProgressUnusable, match="FIFO"):
        ProgressStore(data).lock()
    assert stat.S_ISFIFO(os.lstat(data / name).st_mode)  # left as it was


def test_a_fifo_in_place_of_the_lock_is_refused_by_the_app_in_one_line(tmp_path):
    data = tmp_path / "data"
    progress_in(data)
    os.mkfifo(data / LOCK_FILE, 0o600)
    code, shown = run_app_in_pty(["sigmoid-2-2-2"], data)
    assert code == 2 and "Traceback" not in shown
    assert f"{LOCK_FILE} is a FIFO (named pipe), not a regular file" in shown
    one_line_error(tutor("reset", "--all", "--yes", data=data), LOCK_FILE, "FIFO")


@pytest.mark.parametrize("name", [STATE_FILE, LOG_FILE])
def test_a_folder_in_place_of_a_progress_file_keeps_the_good_one(tmp_path, name):
    """A folder in place of the log once gave a traceback and had the good state renamed
    "damaged"."""
    data = tmp_path / "data"
    progress_in(data)
    other = STATE_FILE if name == LOG_FILE else LOG_FILE
    good = (data / other).read_bytes()
    (data / name).unlink()
    (data / name).mkdir()
    for args in (["progress"], ["export", "--format", "json"]):
        one_line_error(tutor(*args, data=data), name, "is a folder")
    code, shown = run_app_in_pty(["sigmoid-2-2-2"], data)
    assert code == 2 and "Traceback" not in shown and f"{name} is a folder" in shown
    assert (data / other).read_bytes() == good and not aside(data, other)


def test_an_unreadable_state_file_is_one_line_and_not_renamed(tmp_path):
    """Root-owned files once gave tracebacks, and an unreadable state was renamed."""
    data = tmp_path / "data"
    progress_in(data)
    prefix = learner_prefix()
    os.chmod(data / STATE_FILE, 0)
    one_line_error(tutor("progress", data=data, prefix=prefix), STATE_FILE, "permission denied")
    one_line_error(tutor("export", data=data, prefix=prefix), STATE_FILE, "permission denied")
    assert (data / STATE_FILE).exists() and not aside(data, STATE_FILE)
    os.chmod(data / STATE_FILE, 0o600)
    (data / LOCK_FILE).write_text("")  # a lock left by another user (root) is no better
    os.chmod(data / LOCK_FILE, 0o400)
    reset = tutor("reset", "--all", "--yes", data=data, prefix=prefix)
    one_line_error(reset, LOCK_FILE, "permission denied")


UNWRITABLE_LOG_SESSION = """
import json, sys
sys.path.insert(0, sys.argv[2])
from test_store_safety import ProgressStore, session_in
store = ProgressStore(__import__("pathlib").Path(sys.argv[1]))
store.lock()
s = session_in(store)
before = s.current.id
outcome = s.submit(f"{s.current.value:.6f}")
store.flush()
store.unlock()
print(json.dumps({"message": outcome.message, "advanced": outcome.advanced,
                  "verdict": outcome.verdict is not None, "current": s.current.id,
                  "before": before, "attempts": s.records[before].attempts,
                  "warnings": store.warnings}))
"""


def test_an_unwritable_log_says_so_at_the_start_and_at_the_answer(tmp_path):
    """An unwritable log once crashed the session at the first answer."""
    data = tmp_path / "data"
    progress_in(data, learn=1, variant=0)
    prefix = learner_prefix()
    os.chmod(data / LOG_FILE, 0o400)
    before = (data / LOG_FILE).read_bytes()
    out = subprocess.run(
        [
            *prefix,
            sys.executable,
            "-c",
            UNWRITABLE_LOG_SESSION,
            str(data),
            str(Path(__file__).parent),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    seen = json.loads(out.stdout)
    assert seen["message"].startswith(NOT_SAVED) and "permission denied" in seen["message"]
    assert not seen["advanced"] and not seen["verdict"] and seen["attempts"] == 0
    assert seen["current"] == seen["before"]
    assert any(w.startswith(NOT_SAVED) for w in seen["warnings"])  # told at the start too
    assert (data / LOG_FILE).read_bytes() == before


@pytest.mark.parametrize("name", [LOCK_FILE, LOG_FILE, STATE_FILE])
def test_a_progress_file_that_is_a_link_is_never_written_through(tmp_path, name):
    """A lock that was a link once had its target truncated and a PID written into it; a
    log that was a link had answers appended to its target."""
    data = tmp_path / "data"
    progress_in(data)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (data / name).unlink(missing_ok=True)
    (data / name).symlink_to(victim)
    with pytest.raises(ProgressUnusable, match=f"{name} is a symbolic link"):
        ProgressStore(data).lock()
    if name != LOCK_FILE:  # a store that reads or appends through the link: not saved
        store = ProgressStore(data)
        with contextlib.suppress(OSError):
            store.state()
        outcome = session_in(store).submit("0.41")
        assert outcome.message.startswith(NOT_SAVED) and "symbolic link" in outcome.message
    one_line_error(tutor("reset", "--all", "--yes", data=data), name, "symbolic link")
    assert victim.read_text() == "precious\n"
    assert (data / name).is_symlink()


def test_a_data_folder_that_is_a_link_is_refused_and_its_target_left_alone(tmp_path):
    """A symlinked data folder once had its target chmodded to 0700. The tutor refuses it
    (TUTOR_DATA_DIR can name the real folder); folders above it may still be links."""
    target = tmp_path / "shared"
    progress_in(target)
    os.chmod(target, 0o755)
    link = tmp_path / "data"
    link.symlink_to(target)
    with pytest.raises(ProgressUnusable, match="symbolic link"):
        ProgressStore(link).lock()
    for args in (["progress"], ["export"], ["reset", "--all", "--yes"]):
        one_line_error(tutor(*args, data=link), str(link), "symbolic link", "TUTOR_DATA_DIR")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o755
    above = tmp_path / "above"
    above.symlink_to(tmp_path)  # a link higher up is fine
    assert len(right_steps(ProgressStore(above / "shared"))) == 4


# --- full disks
class Disk:
    """A disk with ``free`` bytes left for the files of one folder, at the ``os.write``
    level: a write that does not fit writes what fits and returns short, as a real disk
    does; the next raises ENOSPC. Other files (pytest's own) are untouched."""

    def __init__(self, monkeypatch, folder: Path, free: int):
        self.folder = str(folder.resolve())
        self.free = free
        self.real = os.write
        monkeypatch.setattr(os, "write", self.write)

    def write(self, fd: int, data) -> int:
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            path = ""
        if not path.startswith(self.folder):
            return self.real(fd, data)
        if self.free <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = self.real(fd, bytes(data[: self.free]))
        self.free -= n
        return n


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name an fd")
def test_a_full_disk_shows_one_line_and_keeps_everything_saved(tmp_path, monkeypatch):
    data = tmp_path / "data"
    progress_in(data, learn=1, variant=0)
    store = ProgressStore(data)
    store.lock()
    disk = Disk(monkeypatch, data, free=1500)  # room for two answers and a half
    s = session_in(store)
    saved = []
    for _ in range(6):
        step = s.current.id
        outcome = s.submit(f"{s.current.value:.6f}")
        if outcome.advanced:
            saved.append(step)
            continue
        assert outcome.message.startswith(f"{NOT_SAVED}: no space left on the disk that holds")
        assert str(data) in outcome.message and outcome.verdict is None
        rec = s.records[step]
        assert s.current.id == step and rec.attempts == 0 and rec.status == "todo"
        assert s.score == len(saved) and not s.learner_values().get(step)
    assert len(saved) >= 1
    store.flush()  # the state file cannot be written either: no exception
    json.loads((data / STATE_FILE).read_bytes())  # an older one at worst, whole, not renamed
    lines = log_lines(data)
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])  # no torn line
    assert [json.loads(line)["step"] for line in lines[1:-1]] == saved
    disk.free = 10**6  # space again: the same answer is kept now
    step = s.current.id
    assert s.submit(f"{s.current.value:.6f}").advanced
    store.flush()
    store.unlock()
    again = ProgressStore(data)
    again.lock()
    again.unlock()
    assert again.warnings == [] and right_steps(again) == {"sum_h1", *saved, step}
    assert not aside(data, STATE_FILE) and not aside(data, LOG_FILE)
    private(data)


def _seen(s: QuizSession) -> tuple:
    """Everything an action can change, to compare before and after."""
    records = {
        k: (r.status, r.attempts, r.misses, r.hint_level, r.seconds) for k, r in s.records.items()
    }
    return (records, s.index, s.score, s.streak, dict(s.boxes), s.complete, s.frontier)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name an fd")
@pytest.mark.parametrize(
    ("mode", "action"),
    [
        ("learn", "right"),
        ("learn", "wrong"),
        ("learn", "hint"),
        ("learn", "reveal"),
        ("learn", "skip"),
        ("exam", "wrong"),
        ("drill", "right"),
        ("drill", "wrong"),
    ],
)
def test_an_action_that_cannot_be_saved_changes_nothing(tmp_path, monkeypatch, mode, action):
    """Whatever the action and the mode, one the store could not keep leaves the session as
    it was (records, position, score, the drill's boxes and streak): it never counts."""
    data = tmp_path / "data"
    store = ProgressStore(data)
    seed = 3 if mode == "drill" else None
    s = QuizSession(
        open_lesson(SEED, seed),
        recorder=LessonRecorder(store, "sigmoid-2-2-2", seed, mode),
        mode=mode,
        boxes=store.boxes(),
    )
    s.submit(f"{s.current.value:.6f}")  # saved: something to lose
    s.submit("12345")
    before = _seen(s)
    Disk(monkeypatch, data, free=0)
    do = {
        "right": lambda: s.submit(f"{s.current.value:.6f}"),
        "wrong": lambda: s.submit("12345"),
        "hint": s.next_hint,
        "reveal": s.reveal,
        "skip": s.skip,
    }[action]
    outcome = do()
    assert outcome.message.startswith(NOT_SAVED) and outcome.verdict is None
    assert not outcome.advanced and _seen(s) == before
    monkeypatch.undo()
    again = ProgressStore(data)
    assert len(again.attempts()) == 2 and again.warnings == []


@contextlib.contextmanager
def small_disk(where: Path, size: str = "64k"):
    """A real tmpfs of ``size``: only as root, where mounting is allowed."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a real small filesystem needs root (mount -t tmpfs)")
    where.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_real_full_disk_keeps_every_saved_answer(tmp_path):
    """The data folder on a 64 KiB tmpfs, answered until it is full: the reported case."""
    with small_disk(tmp_path / "disk") as disk:
        data = disk / "data"
        confirmed: dict[str, set[str]] = {}
        refused = 0
        store = ProgressStore(data)
        store.lock()
        for round_ in range(40):
            mode = ("learn", "exam")[round_ % 2]
            key = "sigmoid-2-2-2" + ("#exam" if mode == "exam" else "")
            s = session_in(store, mode)
            while s.current is not None and refused < 3:
                step = s.current.id
                outcome = s.submit(f"{s.current.value:.6f}")
                if outcome.advanced:
                    confirmed.setdefault(key, set()).add(step)
                else:
                    assert outcome.message.startswith(f"{NOT_SAVED}: no space left"), outcome
                    assert s.current.id == step and s.records[step].attempts == 0
                    refused += 1
            if refused >= 3:
                break
        assert refused == 3, "the disk never filled up"
        store.flush()  # no exception, whatever could not be written
        store.unlock()
        lines = log_lines(data)
        assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])
        again = ProgressStore(data)
        again.lock()  # the next start
        again.unlock()
        assert not [w for w in again.warnings if "damaged" in w], again.warnings
        assert not aside(data, STATE_FILE) and not aside(data, LOG_FILE)
        for key, steps in confirmed.items():
            assert steps <= right_steps(again, key)
        private(data)


async def test_the_app_shows_an_answer_that_cannot_be_saved_as_not_saved(tmp_path, monkeypatch):
    """Once a Textual traceback with locals; now one line, and the step stays open."""
    from apphelpers import answer, make_app, run
    from textual.widgets import Input

    app = make_app(tmp_path)
    async with run(app, size=(80, 24)) as pilot:
        disk = Disk(monkeypatch, tmp_path / "progress", free=0)
        await answer(pilot, "0.41")
        shown = str(app.screen.query_one("#feedback").render())
        assert NOT_SAVED in shown and "no space left" in shown
        assert app.session.current.id == "sum_h1" and app.session.score == 0
        assert app.screen.query_one("#answer", Input).value == "0.41"  # kept to try again
        assert app.screen.history.row_count == 0
        disk.free = 10**6
        await pilot.press("enter")
        await pilot.pause()
        assert "Correct: sum_h1" in str(app.screen.query_one("#feedback").render())


# --- standard output that cannot be written
def _closed_stdout() -> None:  # pragma: no cover - runs in the child
    os.close(1)


@pytest.mark.parametrize("args", [["list"], ["solve", "sigmoid-2-2-2"], ["export"]])
@pytest.mark.parametrize("where", ["/dev/full", "closed"])
def test_output_that_cannot_be_written_is_one_line_and_a_failure(tmp_path, args, where):
    data = tmp_path / "data"
    progress_in(data, learn=1, variant=0)
    if where == "closed":
        out = tutor(
            *args,
            data=data,
            stdout=None,
            stderr=subprocess.PIPE,
            capture_output=False,
            preexec_fn=_closed_stdout,
        )
        said = "standard output is closed"
    else:
        with open("/dev/full", "w") as full:
            out = tutor(*args, data=data, stdout=full, stderr=subprocess.PIPE, capture_output=False)
        said = "no space left on device"
    one_line_error(out, said)
    assert "Exception ignored" not in out.stderr


# --- small ones
def test_reset_of_an_unknown_lesson_is_an_error_and_of_nothing_does_nothing(tmp_path):
    data = tmp_path / "data"
    out = tutor("reset", "--all", "--yes", data=data)
    assert out.returncode == 0 and out.stdout.strip() == "No progress to reset."
    assert not data.exists()  # no folder made, no line logged
    progress_in(data, learn=1, variant=0)
    one_line_error(tutor("reset", "nonsense", "--yes", data=data), "'nonsense'")
    out = tutor("reset", "classic-2-2-2", "--yes", data=data)  # a lesson, with nothing saved
    assert out.returncode == 0 and "No progress on classic-2-2-2" in out.stdout
    assert len(log_lines(data)) == 2  # nothing logged


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name an fd")
def test_a_damaged_log_on_a_full_disk_is_left_whole_and_answers_stay_apart(tmp_path, monkeypatch):
    """Setting a damaged log aside needs room for a copy of it. On a full disk nothing
    half-made is left (the copy was once left behind, written with the umask), the log
    stays as it is, the learner is told, and the next answer is not glued to its torn
    last line."""
    data = tmp_path / "data"
    progress_in(data, learn=2, variant=0)
    with open(data / LOG_FILE, "ab") as f:
        f.write(b'{"cut short')
    (data / STATE_FILE).unlink()
    old = os.umask(0o022)
    try:
        disk = Disk(monkeypatch, data, free=100)  # less than a copy of the log
        store = ProgressStore(data)
        store.lock()
        assert any("could not be set aside" in w for w in store.warnings), store.warnings
        assert not aside(data, LOG_FILE) and not list(data.glob(".*.tmp"))
        disk.free = 10**6
        answer_right(session_in(store), 1)
        store.flush()
        store.unlock()
    finally:
        os.umask(old)
    lines = log_lines(data)
    assert lines[2] == b'{"cut short' and json.loads(lines[3])["step"] == "sum_h1"
    private(data)
