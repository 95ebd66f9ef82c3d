"""What one class-server session costs in memory, measured the quick way: no SSH, no
server. This process prepares itself as the preloaded process does
(`tutor.classserver.forkserver.prepare`), forks N sessions on pseudo-terminals of 80x24,
opens each one's first lesson (the picker, Enter, "step 1/" on screen) and reads each
session's private memory (USS: Private_Clean + Private_Dirty of /proc/PID/smaps_rollup).

With --pages it also sorts the last session's private pages, by mapping, with
/proc/PID/pagemap: copies of pages this process had when it forked that session (shared
until the session wrote to them), or pages of its own.

Use it to try a change to the preloading in about 20 s; benchmarks/class_server.py
measures the whole server against sshd (the figures of docs/performance.md).

Run: .venv/bin/python benchmarks/session_memory.py [--sessions 4] [--pages]
"""

from __future__ import annotations

import argparse
import collections
import fcntl
import os
import select
import signal
import struct
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _bytecode import compile_tutor  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def private_mib(pid: int) -> float:
    kib = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            kib += int(line.split()[1])
    return kib / 1024


def open_session(folder: Path, name: str) -> int:
    """Fork a session as the server would ask for one; return once its lesson is shown."""
    from tutor.classserver.forkserver import fork_session

    master, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    request = {"name": name, "folder": str(folder), "term": "xterm-256color", "env": {}}
    pid = fork_session(request, terminal, [])
    os.close(terminal)
    seen = b""

    def wait_for(text: bytes) -> None:
        nonlocal seen
        end = time.monotonic() + 60
        while text not in seen:
            if time.monotonic() > end:
                raise RuntimeError(f"{name}: no {text!r} on screen: {seen[-300:]!r}")
            if select.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 65536)

    wait_for(b"choose a lesson")
    time.sleep(0.3)
    os.write(master, b"\r")
    wait_for(b"step 1/")
    threading.Thread(target=drain, args=(master,), daemon=True).start()
    return pid


def drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def present_pages(pid: int) -> set[int]:
    """The addresses of the pages ``pid`` has in memory, in its writable mappings."""
    found = set()
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for start, end, _ in writable(pid):
            count = (end - start) // PAGE
            pagemap.seek(start // PAGE * 8)
            entries = struct.unpack(f"{count}Q", pagemap.read(count * 8))
            found.update(start + k * PAGE for k, e in enumerate(entries) if e >> 63)
    return found


def writable(pid: int) -> list[tuple[int, int, str]]:
    maps = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        if "w" in fields[1]:
            start, end = (int(x, 16) for x in fields[0].split("-"))
            maps.append((start, end, fields[5].rsplit("/", 1)[-1] if len(fields) > 5 else "[anon]"))
    return maps


def pages(before_fork: set[int], child: int) -> dict[str, float]:
    """The child's private pages, in MiB, by mapping: copies of pages this process had
    when it forked the child (shared until the child wrote to them), or its own."""
    found: collections.Counter[str] = collections.Counter()
    with open(f"/proc/{child}/pagemap", "rb") as pagemap:
        for start, end, where in writable(child):
            count = (end - start) // PAGE
            pagemap.seek(start // PAGE * 8)
            entries = struct.unpack(f"{count}Q", pagemap.read(count * 8))
            for k, e in enumerate(entries):
                if e >> 63 and (e >> 56) & 1:  # in memory, and mapped by this process only
                    kind = "copied" if start + k * PAGE in before_fork else "own"
                    found[f"{kind} {where}"] += 1
    return {k: v * PAGE / 2**20 for k, v in found.most_common()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--pages", action="store_true", help="sort one session's pages")
    args = ap.parse_args()
    compile_tutor()
    from tutor.classroom.course import init_course
    from tutor.classserver.forkserver import prepare

    folder = Path(tempfile.mkdtemp(prefix="session-memory-")) / "course"
    init_course(folder, "Memory")
    names = [f"s{i}" for i in range(args.sessions)]
    (folder / "roster.toml").write_text("".join(f"[students.{n}]\nkeys = []\n" for n in names))
    started = time.perf_counter()
    prepare(folder)
    ready = time.perf_counter() - started
    sessions = [open_session(folder, name) for name in names[:-1]]
    before_fork = present_pages(os.getpid()) if args.pages else set()
    sessions.append(open_session(folder, names[-1]))
    try:
        time.sleep(2.0)  # start-up work done
        each = [private_mib(pid) for pid in sessions]
        print(
            f"Python {sys.version.split()[0]}: prepared in {ready:.2f} s; {len(each)} sessions "
            f"on a lesson's first step: private memory {sum(each) / len(each):.2f} MiB each "
            f"(spread {max(each) - min(each):.2f}); this process {private_mib(os.getpid()):.2f} MiB"
        )
        if args.pages:
            for what, mib in pages(before_fork, sessions[-1]).items():
                if mib >= 0.05:
                    print(f"  {mib:6.2f} MiB {what}")
    finally:
        for pid in sessions:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
