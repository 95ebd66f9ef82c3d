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

import functools
import gc
import json
import os
import selectors
import signal
import socket
import sys
from pathlib import Path
from typing import Any


def empty_lru_caches() -> None:
    """Empty every ``functools.lru_cache`` the warm-up run filled. Such a cache moves an entry
    to the front of its list on every hit: a write into the shared pages that hold the
    entry, which copies each of them into the session. Emptied, a session fills its own in
    pages of its own (0.3 MiB less per session, measured)."""
    for thing in gc.get_objects():
        if isinstance(thing, functools._lru_cache_wrapper):
            thing.cache_clear()


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


def prepare(course_folder: Path | None) -> None:
    """Build what the sessions share (see :func:`tutor.classserver.session.preload`)."""
    gc.disable()  # no collection while preloading: no freed holes in the shared pages
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # forked sessions need no BLAS threads
    from tutor.classserver.session import preload

    preload(course_folder)
    empty_lru_caches()
    # the warm-up run's garbage: the sessions allocate into its freed blocks, which mostly
    # lie in pages they copy anyway (filling them first measured no better)
    gc.collect()


def main(argv: list[str]) -> int:
    prepare(Path(argv[1]) if len(argv) > 1 else None)
    return serve(argv[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
