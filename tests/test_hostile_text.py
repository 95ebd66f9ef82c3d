"""Text from a lesson file never reaches a terminal, a JSON reader or a Markdown page raw.

Every string and every key of a lesson is given, one at a time, an escape sequence, a C1
control or a bidi override; every command that reads the file must refuse it with a message
that names the place, and no byte the terminal would act on may be written. A few runs go
through a real pseudo-terminal, the app's start included.
"""

from __future__ import annotations

import json
import os
import re
import select
import sys
import time
from pathlib import Path

import pytest
from conftest import LESSONS

from tutor.cli import main

#: What a terminal acts on or hides (checked independently of tutor.textmode)
PAYLOADS = (
    "\\u001b]52;c;SGVsbG8gY2xpcGJvYXJk\\u0007",  # OSC 52: write the clipboard
    "\\u001b[2J",  # clear the screen
    "\\u009b31m",  # C1 CSI
    "\\u202eevil",  # right-to-left override
    "\\u200b",  # zero-width space
)
RAW = re.compile("[\x1b\x07\x9b\u202e\u200b]")

MISCONCEPTION = """
[[misconceptions]]
step = "sum_h*"
tag = "no_weights"
message = "Multiply each input by its weight."
answer = "0.1 + 0.5 + 0.25"
"""


def base() -> str:
    return (LESSONS / "sigmoid-2-2-2.toml").read_text() + MISCONCEPTION


def string_literals(text: str) -> list[int]:
    """Where each basic string's content starts (after its opening quote), comments skipped."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            i = text.find("\n", i) % (len(text) + 1) + 1
        elif text.startswith('"""', i):
            out.append(i + 3)
            i = text.index('"""', i + 3) + 3
        elif ch == '"':
            out.append(i + 1)
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif ch == "'":  # a literal string: no escapes, so no payload can go in; skip it
            i = text.index("'", i + 1) + 1
        else:
            i += 1
    return out


def variants() -> list[tuple[str, str]]:
    """(what was made hostile, lesson text): each string literal in turn, then keys."""
    text = base()
    out = []
    for k, at in enumerate(string_literals(text)):
        payload = PAYLOADS[k % len(PAYLOADS)]
        label = text[text.rfind("\n", 0, at) + 1 : at].strip() or f"string {k}"
        out.append((label, text[:at] + payload + text[at:]))
    out.append(("a top-level key", f'"x{PAYLOADS[1]}" = 1\n' + text))
    out.append(
        ("a key in [network]", text.replace("[network]\n", f'[network]\n"k{PAYLOADS[0]}" = 1\n'))
    )
    out.append(("a hint's step", text.replace("[hints]\n", f'[hints]\n"s{PAYLOADS[3]}" = "h"\n')))
    return out


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("label,text", variants(), ids=lambda v: str(v)[:40])
def test_every_string_and_key_is_refused_and_quoted_safely(tmp_path, capsys, label, text):
    lesson = tmp_path / "hostile.toml"
    lesson.write_text(text)
    for args in (
        ("validate", str(lesson)),
        ("solve", str(lesson)),
        ("solve", str(lesson), "--format", "json"),
        ("solve", str(lesson), "--format", "markdown"),
        ("check", str(lesson)),
    ):
        code, out = run_cli(capsys, *args)
        assert code != 0, (label, args, out)
        assert not RAW.search(out), (label, args, out)
        assert "hostile.toml: " in out and ("U+" in out or "\\x" in out or "\\u" in out), out


def pty_run(argv: list[str], env: dict[str, str], seconds: float = 30.0) -> tuple[int, bytes]:
    """Run ``argv`` on a pseudo-terminal of our own; every byte it writes, and its status."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.execve(argv[0], argv, env)
    out = b""
    end = time.monotonic() + seconds
    status = None
    while time.monotonic() < end and status is None:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                out += os.read(fd, 65536)
                continue
            except OSError:  # the child closed the terminal: it has exited or is exiting
                pass
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = code
    os.close(fd)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail(f"{argv[1:]} did not finish: {out[-300:]!r}")
    return status, out


@pytest.mark.skipif(sys.platform != "linux", reason="a Linux pseudo-terminal")
def test_nothing_raw_reaches_a_real_terminal(tmp_path):
    text = base()
    for k, at in reversed(list(enumerate(string_literals(text)))):
        text = text[:at] + PAYLOADS[k % len(PAYLOADS)] + text[at:]
    text = f'"x{PAYLOADS[0]}" = 1\n' + text
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "hostile.toml").write_text(text)
    tutor = str(Path(sys.executable).with_name("tutor"))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "TUTOR_DATA_DIR": str(tmp_path / "data"),
        "TUTOR_LESSONS_PATH": str(folder),
    }
    lesson = str(folder / "hostile.toml")
    for args in (
        ["validate", lesson],
        ["solve", lesson, "--format", "json"],
        ["check", lesson],
        ["list"],
        [lesson],  # the app refuses it before its interface starts
        ["hostile"],
    ):
        status, out = pty_run([tutor, *args], env)
        shown = out.decode("utf-8", "replace")
        assert b"\x1b" not in out and b"\x07" not in out, (args, shown)
        assert not RAW.search(shown), (args, shown)
        assert "Traceback" not in shown, (args, shown)
        if args != ["list"]:
            assert os.WEXITSTATUS(status) != 0, (args, shown)
        assert "hostile" in shown, (args, shown)


def test_json_and_markdown_outputs_carry_nothing_raw(tmp_path, capsys):
    """What can still be written from a file (a progress key, a lesson's markup) is escaped:
    JSON with \\u escapes for C1 and bidi characters, Markdown with backslashes."""
    from tutor.textmode import json_text, markdown_text

    text = json_text({"k": "a\x9bb\u202ec\u2066d\x1be"})
    assert not RAW.search(text) and json.loads(text) == {"k": "a\x9bb\u202ec\u2066d\x1be"}
    md = markdown_text("<script>alert(1)</script> *bold* [x](javascript:1) \x1b[2J")
    assert "<script>" not in md and "\\*bold\\*" in md and "\x1b" not in md
    lesson = tmp_path / "m.toml"
    lesson.write_text(base().replace('title = "', 'title = "<img src=x onerror=alert(1)> *t* ', 1))
    code, out = run_cli(capsys, "solve", str(lesson), "--format", "markdown")
    assert code == 0
    title = out.splitlines()[0]
    assert title.startswith("# \\<img") and "\\*t\\*" in title


def test_text_from_progress_files_is_shown_not_acted_on(tmp_path):
    """A hand-edited or damaged progress file: its keys and strings reach no output raw."""
    import subprocess

    from tutor.catalog import open_lesson
    from tutor.opening import LessonRecorder
    from tutor.progress.store import ProgressStore
    from tutor.session import QuizSession

    data = tmp_path / "d"
    store = ProgressStore(data)
    session = QuizSession(
        open_lesson("sigmoid-2-2-2"), recorder=LessonRecorder(store, "sigmoid-2-2-2", None, "learn")
    )
    session.submit("0.41")
    store.flush()
    hostile = "\u001b]52;c;SGk=\u0007\u202e\u009b2J"
    for name in ("state.json", "attempts.jsonl"):
        path = data / name
        text = path.read_text()
        text = text.replace('"0.41"', json.dumps("0.41" + hostile))
        text = text.replace('"sigmoid-2-2-2"', json.dumps("sigmoid-2-2-2" + hostile), 1)
        path.write_text(text)
    env = {**os.environ, "TUTOR_DATA_DIR": str(data)}
    for args in (
        ["progress"],
        ["progress", "--format", "json"],
        ["export"],
        ["export", "--attempts"],
        ["export", "--format", "json"],
    ):
        out = subprocess.run(
            [sys.executable, "-m", "tutor", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        shown = out.stdout + out.stderr
        assert "Traceback" not in shown, (args, shown)
        assert not RAW.search(shown), (args, shown)
