"""Shared by the class tests: a course folder, public keys, and a quiz session that writes
through a progress store."""

from __future__ import annotations

import base64
import os
import struct
import subprocess
import sys
from pathlib import Path

from conftest import LESSONS

from tutor.catalog import open_lesson
from tutor.lesson.reader import load_lesson
from tutor.opening import LessonRecorder
from tutor.session import QuizSession

SEED = load_lesson(LESSONS / "sigmoid-2-2-2.toml")


#: the installed command, beside this Python (the venv's)
TUTOR = Path(sys.executable).with_name("tutor")
#: a helper process that writes answers to a class database as a session would
WRITER = Path(__file__).with_name("class_writer.py")


def tutor(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run([str(TUTOR), *args], capture_output=True, text=True, timeout=120)
    if ok:
        assert out.returncode == 0, out.stderr
    return out


def fake_key(n: int, comment: str = "") -> str:
    """A well-formed ed25519 public key line (32 bytes of key data, unique by ``n``)."""
    kind = b"ssh-ed25519"
    data = (n.to_bytes(4, "big") * 8)[:32]
    blob = struct.pack(">I", len(kind)) + kind + struct.pack(">I", len(data)) + data
    line = f"ssh-ed25519 {base64.b64encode(blob).decode()}"
    return f"{line} {comment}" if comment else line


def write_course(folder: Path, course: str = "", roster: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.toml").write_text(
        course or 'title = "Lab"\nlessons = ["sigmoid-2-2-2"]\n', encoding="utf-8"
    )
    (folder / "roster.toml").write_text(
        roster
        or f'[students.alice]\nkeys = ["{fake_key(1)}"]\n\n'
        f'[students.bob]\nkeys = ["{fake_key(2)}"]\n\n'
        '[students.carol]\ncode = "ABCD-EFGH"\n',
        encoding="utf-8",
    )
    return folder


def session_in(store, mode: str = "learn", seed: int | None = None) -> QuizSession:
    recorder = LessonRecorder(store, "sigmoid-2-2-2", seed, mode)
    return QuizSession(open_lesson(SEED, seed), recorder=recorder, mode=mode)


def answer_right(session: QuizSession, n: int) -> list[str]:
    """Answer ``n`` steps right; the ids of the steps answered."""
    done = []
    for _ in range(n):
        step = session.current
        outcome = session.submit(f"{step.value:.6f}")
        assert outcome.advanced, outcome.message
        done.append(step.id)
    return done


def right_steps(store, key: str = "sigmoid-2-2-2") -> set[str]:
    steps = store.lessons().get(key, {}).get("steps", {})
    return {k for k, v in steps.items() if v.get("status") in ("correct", "carried")}


def env_without_tty() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}
