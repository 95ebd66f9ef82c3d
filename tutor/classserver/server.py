"""The SSH server of a class (asyncssh): who may log in, one session per student on a pty in a
process of its own, and everything else refused with a message.

- Identity comes only from the authenticated key: a key on the roster (or bound earlier by
  an enrolment code) logs its student in. A student with an unspent enrolment code may log
  in with any key, which proves they hold it; the session then asks for the code before
  anything else, and binds that key to them (``ClassDatabase.enrol``). Passwords and
  keyboard-interactive are not offered: they would bind a key the client never proved.
- Exec requests, subsystems (sftp, scp) and every kind of forwarding are refused.
- One session per student: a second login takes the first one over (the first is ended,
  every answer already kept), so a student whose link died is not locked out until the
  keepalives notice.
- Caps: ``max_sessions`` open sessions, ``max_logins`` logins in progress.
- Dead links: a keepalive after ``keepalive`` seconds of silence; unanswered for as long
  again, the link is ended (40 s by default).
- Idle sessions (no key for ``idle_minutes``) are ended with a message.

The database is used from one thread of its own, so a slow query never stalls the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import platform
import re
import signal
import struct
import termios
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncssh

from tutor.classroom.course import HOST_KEY, Course, load_course
from tutor.classroom.database import ClassDatabase, open_database
from tutor.classserver.logline import log
from tutor.classserver.spawner import Spawner, SpawnerError

if TYPE_CHECKING:
    import socket

T = TypeVar("T")

#: a login name as the roster has it
NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
#: keepalives: one after KEEPALIVE seconds of silence; when KEEPALIVE more pass without an
#: answer the link is dead: found within (KEEPALIVE_COUNT + 1) * KEEPALIVE = 40 s. Over TCP
#: an answer is late, never lost, so one unanswered keepalive is enough; fewer of them keep
#: a hundred idle sessions cheap (each one is a packet encrypted and answered in Python)
KEEPALIVE = 20.0
KEEPALIVE_COUNT = 1
MAX_LOGINS = 50
ENCRYPTION = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr")
LOGIN_TIMEOUT = 30.0
CODE_TRIES = 3
MAX_PENDING = 1 << 20  # bytes of keys kept for a tutor that is not reading them

NO_FORWARDING = "forwarding is not allowed on this server; it only runs the tutor"
NO_COMMANDS = "this server only runs the tutor: log in without a command (ssh -p PORT NAME@HOST)"
NO_TERMINAL = "the tutor needs a terminal: log in with plain ssh, or ssh -t"


def key_line(key: asyncssh.SSHKey) -> str:
    """The OpenSSH public key line of ``key``, without a comment."""
    words = key.export_public_key("openssh").decode("ascii").split()
    return " ".join(words[:2])


class ClassServer:
    """The listening server, its sessions and its counters."""

    def __init__(
        self,
        folder: Path,
        host: str = "127.0.0.1",
        port: int = 2222,
        keepalive: float = KEEPALIVE,
        max_logins: int = MAX_LOGINS,
    ):
        self.folder = folder
        self.course: Course = load_course(folder)
        self.host = host
        self.port = port
        self.keepalive = keepalive
        self.max_logins = max_logins
        self.logins = 0  # connections not yet authenticated
        self.sessions: dict[str, StudentSession] = {}
        self.spawner = Spawner(folder)
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="class-db")
        self._database: ClassDatabase | None = None
        self._listener: asyncssh.SSHAcceptor | None = None
        self._sweeper: asyncio.Task[None] | None = None

    # --- the database, from its own thread
    async def db(self, call: Callable[[ClassDatabase], T]) -> T:
        def run() -> T:
            if self._database is None:
                self._database = open_database(self.course)
            return call(self._database)

        return await asyncio.get_running_loop().run_in_executor(self._db_thread, run)

    async def start(self) -> None:
        await self.db(lambda db: None)  # migrations run, and a bad URL stops us here
        await self.spawner.start()
        try:
            self._listener = await self._listen()
        except BaseException:
            self.spawner.stop()
            raise
        self._sweeper = asyncio.create_task(self._sweep())
        self._log_start()

    async def _listen(self) -> asyncssh.SSHAcceptor:
        return await asyncssh.create_server(
            lambda: StudentConnection(self),
            self.host,
            self.port,
            server_host_keys=[str(self.folder / HOST_KEY)],
            encoding=None,
            line_editor=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_scp=False,
            login_timeout=LOGIN_TIMEOUT,
            keepalive_interval=self.keepalive,
            keepalive_count_max=KEEPALIVE_COUNT,
            server_version="backprop-tutor",
            # AES-GCM first: one call per packet with AES in hardware, where asyncssh's
            # chacha20-poly1305 takes several (keepalives of idle sessions are most packets)
            encryption_algs=ENCRYPTION,
        )

    def _log_start(self) -> None:
        log(
            "started",
            course=self.course.title,
            listen=f"{self.host}:{self.port}",
            pid=os.getpid(),
            preload_pid=self.spawner.pid,
            max_sessions=self.course.max_sessions,
            python=platform.python_version(),  # the memory per session depends on it
        )

    async def serve(self) -> None:
        """Serve until SIGINT or SIGTERM; then end every session (answers are kept)."""
        await self.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await self.stop()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        await asyncio.gather(
            *(
                s.end("shutdown", "The class server is stopping; your answers are kept.")
                for s in list(self.sessions.values())
            ),
            return_exceptions=True,
        )
        self.spawner.stop()
        await self.db(lambda db: db.close())
        self._db_thread.shutdown()
        log("stopped", pid=os.getpid())

    async def _sweep(self) -> None:
        """End the sessions idle for longer than the course allows (checked each minute)."""
        idle = 60.0 * self.course.idle_minutes
        while True:
            await asyncio.sleep(min(60.0, max(idle / 4, 1.0)))
            now = time.monotonic()
            for session in list(self.sessions.values()):
                if now - session.last_input > idle:
                    asyncio.create_task(
                        session.end(
                            "idle",
                            f"Closed after {self.course.idle_minutes} minutes without a key "
                            "pressed; your answers are kept. Log in again to go on.",
                        )
                    )


class StudentConnection(asyncssh.SSHServer):
    """One SSH connection: its authentication, and refusals of all but one session."""

    def __init__(self, server: ClassServer):
        self.server = server
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = "?"
        self.name: str | None = None  # the authenticated student
        self.key: str | None = None  # their key (an OpenSSH public key line)
        self.enrolling = False  # logged in on an unspent code: the session asks for it
        self.tried: str | None = None  # the name asked for, for the refusal line
        self.counted = False
        self.too_many = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.peer = f"{peer[0]}:{peer[1]}"
        logins = self.server.logins
        if logins >= 2 * self.server.max_logins:  # a flood: not even the key exchange
            log("refused", peer=self.peer, why="logins-full", logins=logins)
            conn.abort()
            return
        self.too_many = logins >= self.server.max_logins  # said once the link is encrypted
        self.server.logins += 1
        self.counted = True

    def _done_logging_in(self) -> None:
        if self.counted:
            self.counted = False
            self.server.logins -= 1

    def connection_lost(self, exc: Exception | None) -> None:
        self._done_logging_in()
        if self.name is None:
            if self.tried is not None or exc is not None:
                log(
                    "refused",
                    peer=self.peer,
                    student=self.tried,
                    why="no-key-accepted" if self.tried else "no-login",
                    what=str(exc) if exc else None,
                )
            return
        log("disconnected", student=self.name, peer=self.peer, what=str(exc) if exc else None)

    # --- authentication: public keys only
    def begin_auth(self, username: str) -> bool:
        self.tried = username
        if self.too_many and self.conn is not None:
            log("refused", peer=self.peer, student=username, why="logins-full")
            self.tried = None  # this refusal is logged
            self.conn.disconnect(
                asyncssh.DISC_TOO_MANY_CONNECTIONS,
                "too many logins at once; please try again in a few seconds",
            )
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        if not NAME.fullmatch(username):
            return False
        line = key_line(key)
        try:
            if await self.server.db(lambda db: db.student_for_key(username, line)):
                self.name, self.key, self.enrolling = username, line, False
                return True
            student = (await self.server.db(lambda db: db.roster())).get(username)
            spent = student is not None and username in await self.server.db(
                lambda db: db.enrolled()
            )
        except Exception as err:  # noqa: BLE001  (a database or roster error refuses, logged)
            log("error", peer=self.peer, student=username, what=f"{type(err).__name__}: {err}")
            return False
        if student is not None and student.code and not spent:
            self.name, self.key, self.enrolling = username, line, True
            return True
        return False

    def auth_completed(self) -> None:
        self._done_logging_in()
        assert self.name is not None and self.key is not None
        log(
            "login",
            student=self.name,
            peer=self.peer,
            key=self.key.split()[0] + ":" + fingerprint(self.key),
            enrolling=self.enrolling or None,
        )

    # --- channels
    def session_requested(self) -> asyncssh.SSHServerSession[bytes]:
        return StudentSession(self)

    def _refuse_forwarding(self, what: str) -> None:
        log("refused", student=self.name, peer=self.peer, why=what)
        raise asyncssh.ChannelOpenError(asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED, NO_FORWARDING)

    def connection_requested(self, dest_host: str, dest_port: int, *_: Any) -> bool:
        self._refuse_forwarding("port-forwarding")
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self._refuse_forwarding("socket-forwarding")
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log("refused", student=self.name, peer=self.peer, why="remote-forwarding")
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        log("refused", student=self.name, peer=self.peer, why="remote-socket-forwarding")
        return False


def fingerprint(line: str) -> str:
    """The SHA256 fingerprint of a key line, as ssh-keygen -l shows it."""
    return asyncssh.import_public_key(line).get_fingerprint("sha256").split(":", 1)[1]


class StudentSession(asyncssh.SSHServerSession[bytes]):
    """A session channel: the tutor on a pty in a process of its own, or a refusal."""

    def __init__(self, connection: StudentConnection):
        self.connection = connection
        self.server = connection.server
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.refusal: tuple[str, str] | None = None  # (why, message)
        self.term: str | None = None
        self.size = (80, 24)
        self.master: int | None = None
        self.pid: int | None = None
        self.session_id: int | None = None
        self.how = "quit"
        self.last_input = time.monotonic()
        self.ended = asyncio.Event()
        self.typed: asyncio.Queue[bytes] | None = None  # keys while the code is asked
        self.task: asyncio.Task[None] | None = None
        self.pending = b""  # keys the pty has not taken yet
        self.gone = False  # the client has left

    # --- requests
    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any
    ) -> bool:
        self.term = term_type
        if term_size[0] and term_size[1]:
            self.size = (term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.refusal = ("exec", NO_COMMANDS)
        return True  # accepted only to say why, then closed

    def subsystem_requested(self, subsystem: str) -> bool:
        self.refusal = (f"subsystem-{subsystem}"[:40], f"{subsystem}: {NO_COMMANDS}")
        return True

    def session_started(self) -> None:
        self.task = asyncio.create_task(self._run())

    # --- data
    def data_received(self, data: bytes, datatype: int | None) -> None:
        self.last_input = time.monotonic()
        if self.typed is not None:
            self.typed.put_nowait(data)
            return
        if len(self.pending) < MAX_PENDING:  # keys typed faster than the tutor reads: dropped
            self.pending += data[: MAX_PENDING - len(self.pending)]
        if self.master is not None:
            self._feed()

    def _feed(self) -> None:
        """Pass the keys on to the pty, as much as it takes now (the rest when it can)."""
        loop = asyncio.get_running_loop()
        assert self.master is not None
        try:
            while self.pending:
                sent = os.write(self.master, self.pending)
                self.pending = self.pending[sent:]
        except BlockingIOError:
            loop.add_writer(self.master, self._feed_later)
            return
        except OSError:
            self.pending = b""

    def _feed_later(self) -> None:
        if self.master is not None:
            asyncio.get_running_loop().remove_writer(self.master)
            self._feed()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if width and height:
            self.size = (width, height)
            if self.master is not None:
                set_size(self.master, self.size)

    def eof_received(self) -> bool:
        return True  # the channel stays open until the tutor ends

    def pause_writing(self) -> None:
        if self.master is not None:
            asyncio.get_running_loop().remove_reader(self.master)

    def resume_writing(self) -> None:
        if self.master is not None and not self.ended.is_set():
            asyncio.get_running_loop().add_reader(self.master, self._read_pty)

    def connection_lost(self, exc: Exception | None) -> None:
        """The client is gone: hang up the tutor (every answer is already kept)."""
        self.gone = True
        if self.typed is not None:
            self.typed.put_nowait(b"\x04")  # the code prompt gives up
        if self.pid is not None and not self.ended.is_set():
            self.how = "dropped"
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGHUP)

    # --- the session
    def _write(self, text: str) -> None:
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write(text.replace("\n", "\r\n").encode("utf-8"))

    def _close(self, status: int, message: str | None = None, stderr: bool = False) -> None:
        if self.chan is None or self.chan.is_closing():
            return
        if message:
            data = (message.replace("\n", "\r\n") + "\r\n").encode("utf-8")
            self.chan.write_stderr(data) if stderr else self.chan.write(data)
        self.chan.exit(status)

    async def _run(self) -> None:
        name = self.connection.name
        assert name is not None and self.chan is not None
        peer = self.connection.peer
        try:
            if self.refusal is not None:
                why, message = self.refusal
                log("refused", student=name, peer=peer, why=why)
                self._close(1, f"backprop-tutor: {message}", stderr=True)
                return
            if self.term is None:
                log("refused", student=name, peer=peer, why="no-terminal")
                self._close(1, f"backprop-tutor: {NO_TERMINAL}", stderr=True)
                return
            if self.connection.enrolling and not await self._enrol(name):
                return
            old = self.server.sessions.get(name)
            if old is not None:
                await old.end("taken-over", "This session was taken over by a new login of yours.")
            if len(self.server.sessions) >= self.server.course.max_sessions:
                log(
                    "refused",
                    student=name,
                    peer=peer,
                    why="sessions-full",
                    sessions=len(self.server.sessions),
                )
                self._close(
                    1,
                    "backprop-tutor: the class is full "
                    f"({self.server.course.max_sessions} sessions); please try again later.",
                )
                return
            self.server.sessions[name] = self
            try:
                await self._tutor(name, peer)
            finally:
                if self.server.sessions.get(name) is self:
                    del self.server.sessions[name]
        except Exception as err:  # noqa: BLE001  (one line in the log, one for the student)
            log("error", student=name, peer=peer, what=f"{type(err).__name__}: {err}")
            self._close(
                1, "backprop-tutor: the session could not go on; please tell your instructor."
            )

    async def _enrol(self, name: str) -> bool:
        """Ask for the enrolment code (not echoed); bind the login key when it is right."""
        self.typed = asyncio.Queue()
        key = self.connection.key
        assert key is not None
        self._write(f"Welcome, {name}. This key is not known yet: type your enrolment code.\n")
        for _ in range(CODE_TRIES):
            self._write("Enrolment code: ")
            code = await self._read_line()
            if code is None:
                return False
            typed = code.strip()
            if await self.server.db(lambda db: db.enrol(name, typed, key)):  # noqa: B023
                self.typed = None
                log(
                    "enrolled",
                    student=name,
                    peer=self.connection.peer,
                    key=key.split()[0] + ":" + fingerprint(key),
                )
                self._write("\nThank you: from now on this key logs you in.\n")
                return True
            self._write("\nThat is not your enrolment code.\n")
        log("refused", student=name, peer=self.connection.peer, why="wrong-enrolment-code")
        self._close(1, "backprop-tutor: wrong enrolment code; ask your instructor for it.")
        return False

    async def _read_line(self) -> str | None:
        """A line typed at the prompt, without echo (None: the client left or gave up)."""
        assert self.typed is not None
        line = b""
        while True:
            try:
                data = await asyncio.wait_for(self.typed.get(), timeout=LOGIN_TIMEOUT * 4)
            except TimeoutError:
                self._close(1, "\nbackprop-tutor: no code was typed.")
                return None
            for byte in data:
                if byte in (13, 10):
                    return line.decode("utf-8", "replace")
                if byte in (3, 4):  # Ctrl+C, Ctrl+D
                    self._close(1, "")
                    return None
                if byte in (8, 127):
                    line = line[:-1]
                elif byte >= 32 and len(line) < 200:
                    line += bytes([byte])

    async def _tutor(self, name: str, peer: str) -> None:
        """The tutor on a new pty, in a process forked by the preloaded process."""
        assert self.chan is not None
        env = {
            k: v
            for k, v in self.chan.get_environment().items()
            if k in ("LANG", "NO_COLOR") or k.startswith("LC_")
        }
        master, tty = os.openpty()
        set_size(master, self.size)
        os.set_blocking(master, False)
        request = {"name": name, "folder": str(self.server.folder), "term": self.term, "env": env}
        try:
            self.pid, conn = await self.server.spawner.spawn(request, tty)
        except SpawnerError as err:
            os.close(master)
            raise RuntimeError(str(err)) from None
        self.master = master
        started = time.monotonic()
        if self.gone:  # the client left while the session was being forked
            self.how = "dropped"
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGHUP)
        self.session_id = await self.server.db(
            lambda db: db.session_opened(name, peer, self.pid or 0)
        )
        log(
            "session",
            student=name,
            peer=peer,
            pid=self.pid,
            session=self.session_id,
            term=self.term,
            size=f"{self.size[0]}x{self.size[1]}",
            env=",".join(f"{k}={v}" for k, v in sorted(env.items())) or None,
        )
        loop = asyncio.get_running_loop()
        self.output_done = asyncio.Event()
        loop.add_reader(master, self._read_pty)
        if self.pending:
            self._feed()
        code = await self._wait(conn)
        if code is None:  # the preloaded process died: the session runs on until its
            await self.output_done.wait()  # terminal closes (it quit, or was ended)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.output_done.wait(), timeout=2.0)
        loop.remove_reader(master)
        loop.remove_writer(master)
        self.master = None
        os.close(master)
        self.ended.set()
        how = self.how
        if how == "quit" and code == 2:
            how = "refused"  # it could not start, and said why on the terminal
        elif how == "quit" and code not in (0, None):
            how = "error"
            self.farewell = (
                "backprop-tutor: the session stopped on an error; your answers so far are "
                "kept. Please tell your instructor."
            )
        session_id = self.session_id
        await self.server.db(lambda db: db.session_closed(session_id, how))
        log(
            "logout",
            student=name,
            peer=peer,
            pid=self.pid,
            session=session_id,
            how=how,
            code=code,
            seconds=round(time.monotonic() - started, 1),
        )
        self._close(0 if code == 0 else 1, self.farewell)

    farewell: str | None = None

    async def _wait(self, conn: socket.socket) -> int | None:
        return await self.server.spawner.wait(conn)

    def _read_pty(self) -> None:
        assert self.master is not None
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError as err:  # EIO: every copy of the terminal end is closed
            if err.errno != errno.EIO:
                log("error", student=self.connection.name, what=f"pty: {err}")
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
            self.output_done.set()
            return
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write(data)

    async def end(self, how: str, message: str) -> None:
        """End this session from the server's side: the tutor quits as on Ctrl+Q (its
        answers are kept), then the student reads why."""
        if self.pid is None or self.ended.is_set():
            return
        self.how, self.farewell = how, message
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.ended.wait(), timeout=5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            await self.ended.wait()


def set_size(fd: int, size: tuple[int, int]) -> None:
    """The window size of the pty (the tutor gets SIGWINCH)."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))


def serve(
    folder: Path, host: str, port: int, keepalive: float = KEEPALIVE, max_logins: int = MAX_LOGINS
) -> int:
    """`tutor class serve`: run until interrupted."""
    server = ClassServer(folder, host, port, keepalive, max_logins)
    asyncio.run(server.serve())
    return 0
