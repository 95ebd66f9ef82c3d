"""The preloaded process that forks the sessions (the idea of multiprocessing's forkserver,
with a pty and a Unix socket): started once by the server, it imports the tutor and its
interface, builds what every session shares, freezes it (``gc.freeze``) and then forks one
process per session on request. Forking from the server itself would copy an asyncio loop,
its threads and its sockets into every session; this process has none of them.

Protocol, on a SOCK_SEQPACKET Unix socket (one connection per session): the server sends the
request (JSON) with the pty's terminal end attached (SCM_RIGHTS); this process answers
``pid N`` once the session is forked and ``exit CODE`` when it ends. It stops when its
standard input (a pipe from the server) closes.

Run: python -m tutor.classserver.forkserver SOCKET [COURSE_FOLDER]
"""

from __future__ import annotations

import gc
import json
import os
import re
import selectors
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

#: objects that take up the allocator's free blocks before the forks (see fill_free_blocks)
FILLER: list[object] = []


def free_blocks() -> tuple[dict[int, int], int]:
    """From CPython's allocator statistics: free blocks per size class, and unused pools."""
    with tempfile.TemporaryFile() as report:
        saved = os.dup(2)
        try:
            sys.stderr.flush()
            os.dup2(report.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        report.seek(0)
        text = report.read().decode("ascii", "replace")
    free = {}
    for match in re.finditer(r"^\s*\d+\s+(\d+)\s+\d+\s+\d+\s+(\d+)\s*$", text, re.M):
        free[int(match.group(1))] = int(match.group(2))
    pools = re.search(r"^(\d+) unused pools \* (\d+) bytes", text, re.M)
    return free, int(pools.group(1)) * int(pools.group(2)) if pools else 0


def fill_free_blocks() -> None:
    """Take up the free blocks and pools scattered through the preloaded process's heap.

    A forked session allocates into whatever free block the allocator finds first; in a
    page it shares with the preloaded process, that one write copies the whole page into
    the session. Filled here, once, the sessions' allocations go to pages of their own."""
    free, unused = free_blocks()
    header = sys.getsizeof(b"")
    for size, count in free.items():
        if size > header:
            FILLER.extend(bytes(size - header) for _ in range(count))
        elif size > 16:
            FILLER.extend(float(k) + 0.5 for k in range(count))
    largest = max(free, default=512)
    FILLER.extend(bytes(largest - header) for _ in range(unused // largest))


def fork_session(request: dict[str, Any], tty: int, keep: list[int]) -> int:
    """Fork one session; in the child, run it and never come back."""
    gc.freeze()  # everything so far is shared: the sessions' collector leaves it alone
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        for fd in keep:
            os.close(fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        gc.enable()
        log_stream = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace")
        from tutor.classserver.session import run

        code = run(request, tty, log_stream)
    except BaseException as err:  # noqa: BLE001  (a session must never return into the loop)
        try:
            from tutor.classserver.logline import log

            log("error", student=request.get("name"), what=f"{type(err).__name__}: {err}")
        finally:
            os._exit(code)
    os._exit(code)


def serve(path: str) -> int:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(128)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when this ends
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_r, selectors.EVENT_READ, "reap")
    selector.register(0, selectors.EVENT_READ, "server")
    sessions: dict[int, socket.socket] = {}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        for key, _ in selector.select():
            if key.data == "server":
                if not os.read(0, 512):
                    return 0  # the server has gone: its ptys hang up the sessions
            elif key.data == "reap":
                while True:
                    try:
                        os.read(wake_r, 512)
                    except BlockingIOError:
                        break
                _reap(sessions)
            else:
                conn, _ = listener.accept()
                try:
                    message, fds, _, _ = socket.recv_fds(conn, 65536, 1)
                    request = json.loads(message)
                    if len(fds) != 1 or not isinstance(request, dict):
                        raise ValueError("a request is a JSON object and one terminal")
                except (OSError, ValueError) as err:
                    conn.close()
                    print(f"forkserver: bad request: {err}", file=sys.stderr)
                    continue
                keep = [listener.fileno(), wake_r, wake_w, selector.fileno()]
                keep += [c.fileno() for c in sessions.values()] + [conn.fileno()]
                pid = fork_session(request, fds[0], keep)
                os.close(fds[0])
                sessions[pid] = conn
                conn.send(f"pid {pid}".encode())
        _reap(sessions)


def _reap(sessions: dict[int, socket.socket]) -> None:
    while sessions:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = sessions.pop(pid, None)
        if conn is not None:
            try:
                conn.send(f"exit {os.waitstatus_to_exitcode(status)}".encode())
            except OSError:
                pass
            conn.close()


def main(argv: list[str]) -> int:
    gc.disable()  # no collection while preloading: no freed holes in the shared pages
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # forked sessions need no BLAS threads
    from tutor.classserver.session import preload

    preload(Path(argv[1]) if len(argv) > 1 else None)
    gc.collect()  # the garbage of the warm-up run, before its holes are filled
    fill_free_blocks()
    return serve(argv[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
