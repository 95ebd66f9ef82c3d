"""`tutor class serve` against OpenSSH's sshd running the tutor by ForceCommand (the setup of
docs/lab-setup.md), side by side in one run, with the same client (asyncssh, a pty of 80x24
per session) and the same installed tutor:

- memory: PSS per student with N sessions open, each on a lesson (the picker, Enter, the
  first step shown: NumPy and the engine loaded), read as smem does from
  /proc/PID/smaps_rollup over every process of the server (the listener, the preloaded
  process or sshd's per-connection processes, and the tutors), divided by N;
- idle CPU: the CPU time of all those processes over a quiet window, in % of one core;
- logins: L students log in at the same moment; how many get the picker, and the first
  prompt's p50/p95 (from the TCP connect to the picker on screen).

Run (as root: sshd needs it): .venv/bin/python benchmarks/class_server.py [--sessions 100]
    [--logins 30] [--idle-seconds 30]
Goals (issue 18): PSS per student at most half of ForceCommand's; every login admitted,
first prompt p95 no slower than ForceCommand's; idle CPU below 0.1% of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _bytecode import compile_tutor  # noqa: E402

from tutor.classroom.course import init_course  # noqa: E402

TUTOR = str(Path(sys.executable).with_name("tutor"))
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
PICKER = b"choose a lesson"
LESSON_READY = b"step 1/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode})")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


# --- the processes of a server, as smem sees them
def tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


# --- the client side
class Screen(asyncssh.SSHClientSession[bytes]):
    """Keeps what the session shows (a terminal would), and says when a text appears."""

    def __init__(self) -> None:
        self.seen = b""
        self.waiting: list[tuple[bytes, asyncio.Event]] = []
        self.closed = asyncio.Event()
        self.chan: asyncssh.SSHClientChannel[bytes] | None = None

    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        self.chan = chan

    def data_received(self, data: bytes, datatype: int | None) -> None:
        self.seen = (self.seen + data)[-200_000:]
        for text, event in self.waiting:
            if text in self.seen:
                event.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        for _, event in self.waiting:
            event.set()

    async def wait_for(self, text: bytes, timeout: float = 60) -> None:
        if text in self.seen:
            return
        event = asyncio.Event()
        self.waiting.append((text, event))
        await asyncio.wait_for(event.wait(), timeout)
        if text not in self.seen:
            raise RuntimeError(f"the session ended before {text!r}: {self.seen[-300:]!r}")


class Student:
    def __init__(self, port: int, user: str, key: asyncssh.SSHKey, env: dict[str, str]):
        self.port, self.user, self.key, self.env = port, user, key, env
        self.conn: asyncssh.SSHClientConnection | None = None
        self.screen: Screen | None = None
        self.first_prompt: float | None = None

    async def log_in(self) -> None:
        start = time.perf_counter()
        self.conn = await asyncssh.connect(
            "127.0.0.1",
            self.port,
            username=self.user,
            client_keys=[self.key],
            known_hosts=None,
            agent_path=None,
            login_timeout=120,
        )
        _, screen = await self.conn.create_session(
            Screen, term_type="xterm-256color", term_size=(80, 24), env=self.env, encoding=None
        )
        self.screen = screen
        await screen.wait_for(PICKER, timeout=120)
        self.first_prompt = time.perf_counter() - start

    async def open_lesson(self) -> None:
        assert self.screen is not None and self.conn is not None
        await asyncio.sleep(0.3)
        assert self.screen.chan is not None
        self.screen.chan.write(b"\r")
        await self.screen.wait_for(LESSON_READY, timeout=120)

    async def leave(self) -> None:
        if self.conn is not None:
            self.conn.close()
            await self.conn.wait_closed()


# --- the two servers
class Server:
    name = ""
    proc: subprocess.Popen[bytes]
    port: int

    def student(self, i: int) -> Student:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ClassServer(Server):
    name = "tutor class serve"

    def __init__(self, tmp: Path, keys: list[asyncssh.SSHKey]):
        folder = tmp / "course"
        init_course(folder, "Benchmark")
        (folder / "roster.toml").write_text(
            "".join(
                f'[students.s{i}]\nkeys = ["{key.export_public_key().decode().strip()}"]\n\n'
                for i, key in enumerate(keys)
            )
        )
        self.keys = keys
        self.port = free_port()
        self.proc = subprocess.Popen(
            [TUTOR, "class", "serve", str(folder), "--port", str(self.port), "--max-logins", "200"],
            stderr=(tmp / "class.log").open("wb"),
        )
        wait_port(self.port, self.proc)

    def student(self, i: int) -> Student:
        return Student(self.port, f"s{i}", self.keys[i], {"LANG": "C.UTF-8"})


class ForceCommandServer(Server):
    """A private sshd with docs/lab-setup.md's block; every student logs in to one account
    (root, here) with a progress folder of their own, so that sessions do not lock each
    other out: as separate accounts would be."""

    name = "sshd + ForceCommand"

    def __init__(self, tmp: Path, key: asyncssh.SSHKey):
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        host_key.write_private_key(str(tmp / "sshd_host_key"))
        os.chmod(tmp / "sshd_host_key", 0o600)
        (tmp / "authorized_keys").write_bytes(key.export_public_key())
        self.key = key
        self.port = free_port()
        homes = tmp / "homes"
        homes.mkdir()
        config = tmp / "sshd_config"
        config.write_text(
            f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {tmp}/sshd_host_key
PidFile {tmp}/sshd.pid
AuthorizedKeysFile {tmp}/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxStartups 200
MaxSessions 10
LogLevel ERROR
ForceCommand TUTOR_DATA_DIR={homes}/$STUDENT {TUTOR}
SetEnv TUTOR_NO_BLINK=1
AcceptEnv LANG LC_* NO_COLOR STUDENT
PermitTTY yes
DisableForwarding yes
PermitUserRC no
ClientAliveInterval 15
ClientAliveCountMax 4
"""
        )
        self.proc = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(tmp / "sshd.log")])
        wait_port(self.port, self.proc)

    def student(self, i: int) -> Student:
        return Student(self.port, "root", self.key, {"LANG": "C.UTF-8", "STUDENT": f"s{i}"})


# --- the measurements
async def open_sessions(server: Server, n: int, batch: int = 10) -> list[Student]:
    students = [server.student(i) for i in range(n)]
    for k in range(0, n, batch):
        group = students[k : k + batch]
        await asyncio.gather(*(s.log_in() for s in group))
        await asyncio.gather(*(s.open_lesson() for s in group))
    return students


async def memory_and_idle(server: Server, n: int, idle_seconds: float) -> tuple[float, float]:
    students = await open_sessions(server, n)
    await asyncio.sleep(5.0)  # start-up work done
    pids = tree(server.proc.pid)
    pss = sum(pss_kib(p) for p in pids) / 1024
    c0, t0 = cpu_seconds(pids), time.monotonic()
    await asyncio.sleep(idle_seconds)
    cpu = 100 * (cpu_seconds(tree(server.proc.pid)) - c0) / (time.monotonic() - t0)
    await asyncio.gather(*(s.leave() for s in students))
    await asyncio.sleep(3.0)  # the sessions end
    return pss / n, cpu


async def logins(server: Server, n: int, first: int) -> tuple[int, list[float]]:
    students = [server.student(first + i) for i in range(n)]
    results = await asyncio.gather(*(s.log_in() for s in students), return_exceptions=True)
    admitted = [s.first_prompt for s, r in zip(students, results, strict=True) if r is None]
    await asyncio.gather(*(s.leave() for s in students), return_exceptions=True)
    await asyncio.sleep(3.0)
    return len([t for t in admitted if t is not None]), [t for t in admitted if t is not None]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else 0.0


async def main_async(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="class-bench-"))
    count = max(args.sessions, args.logins * 2)
    keys = [asyncssh.generate_private_key("ssh-ed25519") for _ in range(count)]
    servers: list[Server] = []
    try:
        servers = [ClassServer(tmp, keys), ForceCommandServer(tmp, keys[0])]
        await asyncio.sleep(2.0)  # the class server's preloaded process is ready
        figures = {}
        for server in servers:
            pss, cpu = await memory_and_idle(server, args.sessions, args.idle_seconds)
            admitted, times = await logins(server, args.logins, args.sessions % count)
            figures[server.name] = (pss, cpu, admitted, times)
            print(
                f"{server.name:22s} {args.sessions} sessions on a lesson: PSS {pss:.1f} MiB per "
                f"student, idle CPU {cpu:.3f}% of a core over {args.idle_seconds:.0f} s; "
                f"{args.logins} logins at once: {admitted} admitted, first prompt "
                f"p50 {statistics.median(times) if times else 0:.2f} s, "
                f"p95 {pct(times, 0.95):.2f} s",
                flush=True,
            )
        ours, theirs = figures[servers[0].name], figures[servers[1].name]
        print(
            f"ratios (class server / ForceCommand): PSS {ours[0] / theirs[0]:.2f} (goal ≤ 0.5), "
            f"first prompt p95 {pct(ours[3], 0.95) / max(pct(theirs[3], 0.95), 1e-9):.2f} "
            f"(goal ≤ 1); idle CPU {ours[1]:.3f}% (goal < 0.1%)"
        )
        ok = (
            ours[0] <= 0.5 * theirs[0]
            and ours[2] == args.logins
            and pct(ours[3], 0.95) <= pct(theirs[3], 0.95)
            and ours[1] < 0.1
        )
        return 0 if ok else 1
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--logins", type=int, default=30)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    args = ap.parse_args()
    if os.geteuid() != 0 or not Path(SSHD).exists():
        print("class_server: needs root and openssh-server (sshd)", file=sys.stderr)
        return 2
    compile_tutor()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as err:  # a run that went wrong is not a missed target (exit 1)
        print(f"class_server: {err}", file=sys.stderr)
        sys.exit(2)
