"""The roster: who may log in, by the login name the student types and an OpenSSH public
key, or a one-time enrolment code that binds the first key the student logs in with.

``roster.toml`` holds one ``[students.NAME]`` table per student. The instructor edits it by
hand or with ``tutor class roster``; both are checked here, every problem reported as
``FILE: where: what``. The commands edit the file's text (a table added at the end, or
taken out), so that the instructor's comments and layout stay as they were.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.classroom.tomlfile import check_text, checked, fail, read_toml
from tutor.lesson.fields import Reader, clip

NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
STUDENT_KEYS = {"keys", "code"}
MAX_KEYS = 16
#: the public key types OpenSSH makes for users (DSA keys are refused by OpenSSH itself)
KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
#: enrolment codes: no 0/O, 1/I/L, so that one read out loud or from a slip is typed right
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_RE = re.compile(r"[2-9A-HJKMNP-Z]{4}-?[2-9A-HJKMNP-Z]{4}")


@dataclass(frozen=True)
class Student:
    name: str  # the login name: [a-z][a-z0-9_-]{0,31}
    keys: tuple[str, ...]  # OpenSSH public keys, as "TYPE BASE64" (comments dropped)
    code: str | None  # a one-time enrolment code ("K7QM-2XWD"), when no key is known yet


class KeyError_(ValueError):
    """A public key line that is not one; ``str()`` says what is wrong."""


def public_key(line: str) -> str:
    """An OpenSSH public key line (``TYPE BASE64 [COMMENT]``) as ``TYPE BASE64``, the form
    keys are compared in; raises :class:`KeyError_` saying what is wrong with it."""
    parts = line.strip().split()
    if len(parts) < 2:
        raise KeyError_("not an OpenSSH public key (TYPE BASE64 [COMMENT], as in a .pub file)")
    kind, blob = parts[0], parts[1]
    if kind not in KEY_TYPES:
        if kind.startswith("-----BEGIN"):
            raise KeyError_("this is a private key: give the public key (the .pub file)")
        raise KeyError_(f"unknown key type {clip(kind)!r}; one of {', '.join(KEY_TYPES[:3])}, …")
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise KeyError_("the key's data is not base64 (cut short or damaged?)") from None
    if len(raw) < 4 or raw[4 : 4 + struct.unpack(">I", raw[:4])[0]] != kind.encode():
        raise KeyError_("the key's data does not match its type (cut short or damaged?)")
    return f"{kind} {blob}"


def same_code(given: str, code: str) -> bool:
    """Whether a typed code is the student's: case, spaces and the dash do not matter; the
    comparison takes the same time wherever the first difference is."""
    return hmac.compare_digest(_plain(given).encode(), _plain(code).encode())


def _plain(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def new_code() -> str:
    """A fresh enrolment code: eight characters (40 bits), shown as two groups of four."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def load_roster(folder: Path) -> dict[str, Student]:
    """The students of ``roster.toml`` in ``folder`` by name; :class:`CourseError` with
    every problem found."""
    path = Path(folder) / "roster.toml"
    return parse_roster(read_toml(path), str(path))


def parse_roster(data: dict[str, Any], file: str) -> dict[str, Student]:
    r = Reader(file)
    check_text(r, data)
    r.keys(data, "", {"students"})
    table = r.table(data.get("students", {}), "students") or {}
    students: dict[str, Student] = {}
    keys_seen: dict[str, str] = {}
    for name, entry in table.items():
        where = f"students.{name}" if NAME_RE.fullmatch(str(name)) else f'students."{name}"'
        if not NAME_RE.fullmatch(str(name)):
            r.bad(
                where,
                "not a login name: a small letter, then up to 31 small letters, digits, _ or -",
            )
            continue
        if r.table(entry, where) is None:
            continue
        before = len(r.problems)
        r.keys(entry, where, STUDENT_KEYS)
        keys = _keys(r, entry.get("keys", []), f"{where}.keys")
        for key in keys:
            if key in keys_seen:
                r.bad(f"{where}.keys", f"this key is also {keys_seen[key]}'s: one key, one student")
            keys_seen.setdefault(key, name)
        code = None
        if "code" in entry:
            code = r.text(entry["code"], f"{where}.code")
            if code is not None and not CODE_RE.fullmatch(code.upper()):
                r.bad(f"{where}.code", "not an enrolment code (8 letters and digits, as XXXX-XXXX)")
                code = None
        if not keys and code is None and len(r.problems) == before:
            r.bad(where, "give the student's keys or an enrolment code")
        students[name] = Student(name, tuple(keys), code.upper() if code else None)
    checked(r)
    return students


def _keys(r: Reader, value: Any, where: str) -> list[str]:
    lines = r.typed(value, where, lambda v: isinstance(v, list), "a list of public keys")
    if lines is None:
        return []
    if len(lines) > MAX_KEYS:
        r.bad(where, f"at most {MAX_KEYS} keys per student")
    keys = []
    for k, line in enumerate(lines[:MAX_KEYS]):
        text = r.text(line, f"{where}[{k}]")
        if text is None:
            continue
        try:
            key = public_key(text)
        except KeyError_ as err:
            r.bad(f"{where}[{k}]", str(err))
            continue
        if key not in keys:
            keys.append(key)
    return keys


# --- editing the file
def keys_from(arg: str) -> list[str]:
    """``--key FILE_OR_LINE``: the public keys of a file (one a line, as a .pub file or
    authorized_keys without options), or the key line itself."""
    path = Path(arg)
    looks_like_key = arg.strip().split(" ", 1)[0] in KEY_TYPES
    if not looks_like_key and path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            why = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
            raise KeyError_(f"{arg}: cannot be read ({why})") from None
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        if not lines:
            raise KeyError_(f"{arg}: holds no public key")
        keys = []
        for n, line in enumerate(lines, start=1):
            try:
                keys.append(public_key(line))
            except KeyError_ as err:
                raise KeyError_(f"{arg}: line {n}: {err}") from None
        return keys
    if not looks_like_key and not arg.strip().startswith("-----BEGIN"):
        raise KeyError_(f"{clip(arg)!r} is neither a file nor an OpenSSH public key line")
    return [public_key(arg)]


def add_student(folder: Path, student: Student) -> None:
    """Add a student's table at the end of roster.toml; the file is checked before and after
    (a student already there is refused: remove them first)."""
    path = Path(folder) / "roster.toml"
    old = _text(path)
    roster = parse_roster(read_toml(path), str(path)) if old else {}
    if student.name in roster:
        raise fail(path, f"students.{student.name}", "already on the roster (remove them first)")
    from tutor.textmode import json_text

    lines = [f"\n[students.{student.name}]\n"]
    if student.keys:
        lines.append("keys = [" + ", ".join(json_text(k) for k in student.keys) + "]\n")
    if student.code:
        lines.append(f"code = {json_text(student.code)}\n")
    new = old + ("" if not old or old.endswith("\n") else "\n") + "".join(lines)
    _replace(path, new, {**roster, student.name: student})


def remove_student(folder: Path, name: str) -> Student:
    """Take a student's table out of roster.toml; their results stay in the database."""
    path = Path(folder) / "roster.toml"
    old = _text(path)
    roster = parse_roster(read_toml(path), str(path))
    if name not in roster:
        raise fail(path, f"students.{name}", "not on the roster")
    header = re.compile(r"^\s*\[\s*students\s*\.\s*\"?" + re.escape(name) + r"\"?\s*\]\s*(#.*)?$")
    lines = old.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        raise fail(
            path, f"students.{name}", "written in a form this command cannot edit; edit the file"
        )
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines)
    )
    while end > start + 1 and lines[end - 1].lstrip().startswith("#"):
        end -= 1  # a comment just above the next table belongs to that table
    new = "".join(lines[:start] + lines[end:])
    left = {k: v for k, v in roster.items() if k != name}
    _replace(path, new, left)
    return roster[name]


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError):
        read_toml(path)  # raises the one-line problem
        raise


def _replace(path: Path, text: str, expected: dict[str, Student]) -> None:
    """Write the edited roster if it reads back as ``expected`` (else the file is left
    alone and the instructor told to edit it): atomically, keeping the file's mode."""
    import tomllib

    try:
        check = parse_roster(tomllib.loads(text), str(path))
    except tomllib.TOMLDecodeError:
        check = None
    # a CourseError (the new student's key is another's) is the problem to report, as is
    if check != expected:
        raise fail(path, "(file)", "is written in a form this command cannot edit; edit the file")
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise fail(path, "(file)", f"cannot be written ({err.strerror})") from None
