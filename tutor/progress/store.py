"""The per-user progress store: an append-only attempt log plus a small state file.

- Both live in one private folder (0700; files 0600): TUTOR_DATA_DIR, else the XDG data dir.
  The folder must not be a symbolic link, and no file in it is followed through a link,
  opened in a way that can block, or used if it is not a regular file (``files``).
- Every answer is appended to ``attempts.jsonl`` and flushed to disk (``fdatasync``) before
  its verdict is shown and before the state is rewritten, and the state is replaced
  atomically (temp file, fsync, os.replace), so ``kill -9`` at any moment loses nothing
  already answered. The state file is a cache of the log: rewritten at
  most once a second, in a background thread, and caught up from the log when read.
- An answer that cannot be written whole (a full disk, an unwritable file) is taken back
  out of the log and raises :class:`ProgressNotSaved`: never a torn line, never a verdict
  for an answer that was not kept. A state file that cannot be written is left as it was.
- A second session of the same user is refused while the first holds the lock.
- Every record read back is checked for its shape (``shapes``). A file that cannot be read
  is kept aside under a new name and the state is rebuilt from the log; a bad record is set
  aside with a copy of its file and the rest kept; answers the state file holds and the log
  lacks (a log cut short or restored from an older copy) are kept. The learner is told.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tutor.progress import files
from tutor.progress.interface import ProgressLocked, ProgressNotSaved, ProgressUnusable
from tutor.progress.records import now
from tutor.progress.shapes import clean_state, log_problem
from tutor.textmode import visible_data

STATE_FILE = "state.json"
LOG_FILE = "attempts.jsonl"
LOCK_FILE = "session.lock"
STATE_VERSION = 1
MAX_STATE_BYTES = 64 * 1024 * 1024
SAVE_INTERVAL = 1.0  # seconds between state-file rewrites (the log is written every time)
#: how a file kept aside is named: NAME.TAG-YYYYMMDD-HHMMSS
DAMAGED, KEPT = "damaged", "kept"


def data_dir() -> Path:
    override = os.environ.get("TUTOR_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("backprop-tutor", appauthor=False))


@dataclass
class ProgressStore:
    """Reads and writes one user's progress; see the module docstring for the guarantees."""

    root: Path = field(default_factory=data_dir)
    warnings: list[str] = field(default_factory=list)
    _lock_fd: int | None = None
    _state: dict[str, Any] | None = None
    _dirty: bool = False
    _saved_at: float = -1e9
    _seq: int = 0  # state snapshots taken
    _written: int = 0  # the newest snapshot on disk
    _write_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _writer: threading.Thread | None = field(default=None, repr=False)
    _log_torn: bool = False  # the log ends in half a line that could not be set aside
    _unsaved: str | None = None  # why the state file could not be written (told once)

    # --- files
    @property
    def state_path(self) -> Path:
        return self.root / STATE_FILE

    @property
    def log_path(self) -> Path:
        return self.root / LOG_FILE

    def ensure_dir(self) -> None:
        """The folder, made if missing and set back to 0700 (never through a link)."""
        files.private_folder(self.root)

    # --- locking
    def lock(self) -> None:
        """Hold the store for this session, or raise ProgressLocked with a clear message.
        The state is read here, under the lock, so that a file the session cannot use
        raises :class:`ProgressUnusable` (an ``OSError``) before any interface starts."""
        self.ensure_dir()
        fd = files.open_regular(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            other = b""
            with contextlib.suppress(OSError):
                other = os.read(fd, 32)
            os.close(fd)
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            pid = other.decode("ascii", "replace").strip()
            who = f" (process {pid})" if pid.isdigit() else ""
            raise ProgressLocked(
                f"another tutor session of yours is already open{who}; close it first"
            ) from None
        with contextlib.suppress(OSError):  # the id is for that message: a full disk is no bar
            os.ftruncate(fd, 0)
            files.write_all(fd, str(os.getpid()).encode())
        self._lock_fd = fd
        # a session that ended mid-write (kill -9, a dropped link) may leave its temp file;
        # under the lock no other session is writing, so any left is stale
        for name in (STATE_FILE, LOG_FILE):
            for stale in self.root.glob(f".{name}.*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
        try:
            self._state = None  # read again under the lock: another session may have written
            self._state = self._load_state()
        except BaseException:
            self.unlock()
            raise
        self._check_log_writable()

    def unlock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
            self._lock_fd = None

    def _check_log_writable(self) -> None:
        """Say at the start, not at the first answer, that answers cannot be saved."""
        try:
            fd = files.open_regular(self.log_path, os.O_WRONLY | os.O_APPEND)
        except FileNotFoundError:
            return
        except OSError as err:
            self._warn(
                f"Your answers cannot be saved: {self._why_not(err)}. Until this is fixed, "
                "nothing you answer is recorded."
            )
            return
        os.close(fd)

    # --- reading
    @property
    def where(self) -> str:
        return str(self.root)

    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = self._load_state()
        return self._state

    def lessons(self) -> dict[str, Any]:
        return self.state().setdefault("lessons", {})

    def lesson_state(self, key: str) -> dict[str, Any]:
        return self.lessons().setdefault(key, {"steps": {}})

    def boxes(self) -> dict[str, int]:
        return self.state().setdefault("leitner", {})

    def _load_state(self) -> dict[str, Any]:
        """The state file, checked and caught up from the log. A file that is not a regular
        file or cannot be read raises :class:`ProgressUnusable` and is left alone; one that
        is not a progress state is kept aside and the state rebuilt from the log."""
        files.check_folder(self.root)
        path = self.state_path
        try:
            raw = files.read_regular(path, MAX_STATE_BYTES)
            data = None if raw is None else visible_data(json.loads(raw.decode("utf-8")))
            if raw is not None and (
                not isinstance(data, dict) or not isinstance(data.get("lessons"), dict)
            ):
                raise ValueError("not a progress state")
        except (ValueError, RecursionError) as err:
            self._warn(self._damaged_state(err))
            return self._from_log()
        if raw is None or not isinstance(data, dict):
            return self._from_log()
        state, problems = clean_state(data)
        if problems:
            self._warn(self._bad_records(problems, raw))
        return self._catch_up(state, refresh=bool(problems), raw=raw)

    def _damaged_state(self, err: Exception) -> str:
        try:
            kept = files.rename_aside(self.state_path, DAMAGED)
        except OSError as why:
            return (
                f"Your progress file {STATE_FILE} is damaged ({_short(err)}); your answers "
                f"were recovered from the attempt log (it could not be moved aside: "
                f"{_words(why)})."
            )
        return (
            f"Your progress file was damaged ({_short(err)}); it was kept as {kept.name} "
            "and your answers were recovered from the attempt log."
        )

    def _bad_records(self, problems: list[str], raw: bytes) -> str:
        """Report records of the wrong shape; the session keeps a copy of the file (a
        read-only command writes nothing) and saves the state without them."""
        what = f"{STATE_FILE}: {len(problems)} record(s) of the wrong shape"
        if self._lock_fd is None:
            return f"{what} were left out ({problems[0]}); the rest was kept."
        self._dirty = True
        try:
            kept = files.copy_aside(self.state_path, raw, DAMAGED)
        except OSError as err:
            return f"{what} were left out ({problems[0]}); no copy could be kept ({_words(err)})."
        return (
            f"{what} were set aside ({problems[0]}); a copy of the file is in {kept.name}, "
            "and the rest was kept."
        )

    def attempts(self) -> list[dict[str, Any]]:
        """Every valid event of the attempt log; damaged lines are kept aside and cleaned."""
        return self._read_log()[0]

    def _read_log(self) -> tuple[list[dict[str, Any]], int]:
        """The log's valid events and its size. Damaged lines (not JSON, the wrong shape, a
        last line cut short) are skipped with a warning; the session that holds the lock
        also keeps a copy of the log and writes it back without them."""
        raw = files.read_regular(self.log_path)
        if raw is None:
            return [], 0
        good: list[dict[str, Any]] = []
        bad, first = 0, ""
        lines = raw.split(b"\n")
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            entry, why = _parse_event(line)
            if entry is None:
                bad += 1
                first = first or f"line {n}: {why}"
            else:
                good.append(entry)
        if not bad:
            return good, len(raw)
        what = f"{LOG_FILE}: {bad} damaged line(s)"
        if self._lock_fd is None:
            # only the session that holds the lock may rewrite the log (no race with it)
            self._warn(f"{what} were skipped ({first}).")
            return good, len(raw)
        clean = b"".join(_line(e) for e in good)
        try:
            kept = files.copy_aside(self.log_path, raw, DAMAGED)
            files.write_atomic(self.log_path, clean)
        except OSError as err:
            self._warn(
                f"{what} were skipped ({first}); they could not be set aside "
                f"({_words(err)}), so the log was left as it is."
            )
            self._log_torn = not raw.endswith(b"\n")
            return good, len(raw)
        self._warn(
            f"{what} were set aside ({first}); a copy is in {kept.name}; everything else was kept."
        )
        return good, len(clean)

    def _from_log(self) -> dict[str, Any]:
        """The state rebuilt by replaying the whole log."""
        return self._replay_log()[0]

    def _replay_log(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The state rebuilt from the whole log, and when each entry (``*``: all) was last
        reset: a rebuilt state must not bring back what was reset after a state file that
        is merged into it was saved."""
        state: dict[str, Any] = {"version": STATE_VERSION, "lessons": {}}
        resets: dict[str, str] = {}
        entries, size = self._read_log()
        for entry in entries:
            apply_entry(state, entry)
            if entry["event"] == "reset":
                resets[entry["lesson_key"]] = str(entry.get("time", ""))
        state["log_bytes"] = size
        return state, resets

    def _catch_up(
        self, state: dict[str, Any], refresh: bool = False, raw: bytes | None = None
    ) -> dict[str, Any]:
        """Apply the log's events written after ``state`` was saved (after a kill). If the
        log cannot simply be followed on (it is shorter than the state expects, its new part
        is damaged, or ``refresh``), rebuild from the whole log and keep what only ``state``
        still has. ``raw`` is the state file as read, for a copy kept aside."""
        size = files.regular_size(self.log_path)
        done = state.get("log_bytes")
        if not refresh and isinstance(done, int) and done <= size:
            if done == size:
                return state
            tail = self._read_from(done)
            events = [_parse_event(line)[0] for line in tail.split(b"\n") if line.strip()]
            if all(e is not None for e in events) and tail.endswith(b"\n"):
                for entry in events:
                    assert entry is not None
                    apply_entry(state, entry)
                state["log_bytes"] = done + len(tail)
                return state
            # a damaged line or one cut short: read it all, where damage is set aside
        rebuilt, resets = self._replay_log()
        kept = merge_missing(rebuilt, state, resets)
        if kept:
            shorter = isinstance(done, int) and done > size
            self._warn(self._kept_from_state(kept, shorter, raw))
        return rebuilt

    def _read_from(self, offset: int) -> bytes:
        fd = files.open_regular(self.log_path, os.O_RDONLY)
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, files.READ_CHUNK):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def _kept_from_state(self, kept: int, shorter: bool, raw: bytes | None) -> str:
        """Say that answers only the state file had were kept; the session keeps a copy of
        that file too and saves the merged state (so this is said once)."""
        copy = ""
        if self._lock_fd is not None:
            self._dirty = True
            if raw is not None:
                try:
                    copy = (
                        f"; a copy of it is in {files.copy_aside(self.state_path, raw, KEPT).name}"
                    )
                except OSError as err:
                    copy = f"; no copy of it could be kept ({_words(err)})"
        why = (
            "Your attempt log is shorter than your progress file expects (cut short, deleted "
            "or restored from an older copy): "
            if shorter
            else ""
        )
        return (
            f"{why}{kept} answer record(s) missing from the log were kept from {STATE_FILE}{copy}."
        )

    # --- writing
    def record(self, entry: dict[str, Any]) -> None:
        """Log one event (on disk before this returns: the record of truth), apply it, and
        save the state soon. This is on the path from Enter to the verdict, so it costs one
        open, two ``fstat`` calls, one write and one ``fdatasync``, and no path look-ups.
        If the event cannot be written whole, nothing of it is kept (the log is cut back
        to where it was) and :class:`ProgressNotSaved` says why."""
        try:
            state = self._append(entry)
        except OSError as err:
            raise self._not_saved(err) from None
        apply_entry(state, entry)
        self.save_soon()

    def _append(self, entry: dict[str, Any]) -> dict[str, Any]:
        state = self.state()
        line = _line(entry)
        fd, size = self._open_log()
        try:
            if state.get("log_bytes") != size:
                # the log changed since this state was read: catch up first. That may set a
                # damaged log aside and write a clean one in its place, so open it again.
                os.close(fd)
                fd = -1
                self._state = state = self._catch_up(state)
                fd, size = self._open_log()
            if self._log_torn:  # half a line at the end: never glue this one to it
                line = b"\n" + line
            try:
                files.write_all(fd, line)
                _sync_data(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)  # no torn line: the log is as it was
                raise
            self._log_torn = False
            state["log_bytes"] = os.fstat(fd).st_size
        finally:
            if fd >= 0:
                os.close(fd)
        return state

    def _open_log(self) -> tuple[int, int]:
        """The log, opened for appending, and its size; its folder is made only if it is
        missing."""
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        try:
            return files.open_regular_sized(self.log_path, flags)
        except FileNotFoundError:
            self.ensure_dir()
            return files.open_regular_sized(self.log_path, flags)

    def _not_saved(self, err: OSError) -> ProgressNotSaved:
        """The one line the learner sees when an answer cannot be saved."""
        reason = self._why_not(err)
        return ProgressNotSaved(
            f"Your answers cannot be saved: {reason}. That was not recorded; try again once "
            "this is fixed.",
            reason,
        )

    def _why_not(self, err: OSError) -> str:
        """Why nothing can be written, in words that name the folder."""
        if isinstance(err, ProgressUnusable):
            return f"{err.strerror} (in {self.root})"
        if err.errno == errno.ENOSPC:
            return f"no space left on the disk that holds {self.root}"
        if err.errno == errno.EDQUOT:
            return f"your disk quota is used up ({self.root})"
        if err.errno == errno.EROFS:
            return f"{self.root} is on a read-only disk"
        if err.errno in (errno.EACCES, errno.EPERM):
            return f"permission denied in {self.root}"
        return f"{_words(err)} ({self.root})"

    def save_soon(self) -> None:
        """Rewrite the state file at most once a second, off the interface's thread (its
        fsync can take milliseconds). The log already holds every answer, so a state file
        that is a little behind is caught up from the log when read."""
        self._dirty = True
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self.save(background=True)

    def settle(self, timeout: float) -> None:
        """Wait a little for a background write in progress, starting none: for an exit that
        must be quick (a dropped link), so that no temp file is left half-written."""
        if self._writer is not None:
            self._writer.join(timeout)

    def flush(self) -> None:
        """Bring the state file up to date now (waiting for a background write). It never
        raises: a state file that cannot be written stays as it was, and is caught up from
        the log the next time it is read."""
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        if self._dirty:
            self.save()

    def save(self, background: bool = False) -> None:
        """Write the state file atomically: now, or in a short-lived thread."""
        state = self.state()
        state.setdefault("log_bytes", 0)
        # encoded here: the writer thread then allocates nothing (no malloc arena of its own)
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._dirty = False
        self._saved_at = time.monotonic()
        self._seq += 1
        if background:
            self._writer = threading.Thread(
                target=self._write_state, args=(data, self._seq, True), daemon=True
            )
            self._writer.start()
        else:
            self._write_state(data, self._seq)

    def _write_state(self, data: bytes, seq: int, background: bool = False) -> None:
        """Write one snapshot. A failure (a full disk) leaves the old file whole and is
        tried again at the next save; the log already has every answer."""
        with self._write_lock:  # one writer at a time; never an older snapshot over a newer
            if seq <= self._written:
                return
            try:
                self.ensure_dir()
                files.write_atomic(self.state_path, data)
            except OSError as err:
                self._dirty = True
                if self._unsaved is None:
                    self._unsaved = _words(err)
                    self._warn(
                        f"{STATE_FILE} could not be updated ({self._unsaved}); every answer "
                        "saved is in the attempt log, and it is caught up from there."
                    )
                return
            self._written = seq
            self._unsaved = None

    def _warn(self, message: str) -> None:
        if message not in self.warnings:  # a file read twice is reported once
            self.warnings.append(message)

    def reset(self, key: str | None = None) -> None:
        """Forget an entry (all for None); raises :class:`ProgressNotSaved` if the reset
        cannot be logged, and then nothing is forgotten."""
        self.record({"time": now(), "event": "reset", "lesson_key": key or "*"})
        self.save()


def apply_entry(state: dict[str, Any], entry: dict[str, Any]) -> None:
    """Bring the state up to date with one log entry: the one place that knows how."""
    lessons = state.setdefault("lessons", {})
    key, step = entry.get("lesson_key"), entry.get("step")
    if entry.get("event") == "reset":
        if key == "*":
            lessons.clear()
        else:
            lessons.pop(key, None)
        return
    record = entry.get("record")
    if not (isinstance(key, str) and isinstance(step, str) and isinstance(record, dict)):
        return
    lesson = lessons.setdefault(key, {"steps": {}})
    if not isinstance(lesson.get("steps"), dict):
        lesson["steps"] = {}
    lesson["steps"][step] = record
    for k in ("lesson", "seed", "mode", "elapsed", "total", "current", "asked"):
        if k in entry:
            lesson[k] = entry[k]
    if "time" in entry:
        lesson["updated"] = entry["time"]
    if isinstance(entry.get("leitner"), dict):
        state["leitner"] = dict(entry["leitner"])


def _sync_data(fd: int) -> None:
    """Flush a file's data, and the size that reads it back, to the disk. ``fdatasync``
    skips the times an ``fsync`` also writes; systems without it get ``fsync``."""
    getattr(os, "fdatasync", os.fsync)(fd)


def merge_missing(into: dict[str, Any], state: dict[str, Any], resets: dict[str, str]) -> int:
    """Keep in ``into`` (rebuilt from the log) the step records only ``state`` (a state
    file's checked content) still has, or has further along; an entry's own fields come
    from whichever has more time in it. An entry reset in the log after ``state`` last
    changed it is not brought back. Returns how many records were kept."""
    kept = 0
    lessons = into.setdefault("lessons", {})
    for key, entry in state.get("lessons", {}).items():
        steps = entry.get("steps", {})
        if not steps or _reset_since(resets, key, entry.get("updated")):
            continue
        mine = lessons.get(key)
        if mine is None:
            lessons[key] = entry
            kept += len(steps)
            continue
        for step_id, record in steps.items():
            theirs = mine["steps"].get(step_id)
            if theirs is None or _progress(record) > _progress(theirs):
                mine["steps"][step_id] = record
                kept += 1
        if entry.get("elapsed", 0) > mine.get("elapsed", 0):
            mine.update({k: v for k, v in entry.items() if k != "steps"})
    if "leitner" not in into and "leitner" in state:
        into["leitner"] = state["leitner"]
    return kept


def _progress(record: dict[str, Any]) -> tuple[int, int, float, bool]:
    """How far along a step record is: every event raises one of these."""
    return (
        record.get("attempts", 0),
        record.get("hint_level", 0),
        record.get("seconds", 0.0),
        record.get("status", "todo") != "todo",
    )


def _reset_since(resets: dict[str, str], key: str, updated: Any) -> bool:
    """The entry was reset (itself or with all) at or after its last change."""
    when = [resets[k] for k in (key, "*") if k in resets]
    if not when:
        return False
    changed = _when(updated)
    return changed is None or any((t := _when(w)) is None or t >= changed for w in when)


def _when(text: Any) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _parse_event(line: bytes) -> tuple[dict[str, Any] | None, str]:
    """One line of the log as an event, or None and what is wrong with it."""
    try:
        entry = visible_data(json.loads(line.decode("utf-8")))  # text shown, never acted on
    except (ValueError, RecursionError):
        return None, "not valid JSON (cut short or damaged)"
    why = log_problem(entry)
    return (entry, "") if why is None else (None, why)


def _line(entry: dict[str, Any]) -> bytes:
    return (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")


def _short(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text[:60]


def _words(err: OSError) -> str:
    return (err.strerror or type(err).__name__).lower()
