"""Lab delivery over SSH, end to end, against a real sshd on 127.0.0.1.

A throw-away sshd whose ForceCommand runs the installed tutor; a client connects with
``ssh -tt`` inside tmux through a small relay, answers a step, and then the link goes dead:
the relay keeps both sockets open but passes nothing on (no FIN, no RST), as when a laptop
closes its lid. sshd's ClientAliveInterval must notice and hang up. The answer must be saved
and no tutor process may be left.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from test_terminal import TUTOR, Tmux, need_tmux

from tutor.progress.store import ProgressStore

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"

pytestmark = pytest.mark.slow  # a real sshd and ssh client


def need_sshd():
    need_tmux()
    missing = [
        p
        for p in (SSHD, shutil.which("ssh"), shutil.which("ssh-keygen"))
        if not p or not Path(p).exists()
    ]
    if missing or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the SSH test needs root, sshd, ssh and ssh-keygen: .ci/run installs them")
        pytest.skip("needs root and openssh-server/openssh-client")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tutor_processes(data_dir: Path) -> list[int]:
    """Processes whose environment points at this test's progress folder."""
    marker = f"TUTOR_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


class Relay(threading.Thread):
    """Forwards one TCP connection to ``target`` until ``dead`` is set; then swallows data."""

    def __init__(self, target: int):
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.target = target
        self.dead = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        self.server.settimeout(30)
        client, _ = self.server.accept()
        upstream = socket.create_connection(("127.0.0.1", self.target))
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, client)
        while not self.stop.is_set():
            for key, _ in sel.select(timeout=0.1):
                data = key.fileobj.recv(65536)
                if not data:
                    self.stop.set()
                    break
                if not self.dead.is_set():
                    key.data.sendall(data)
        for s in (client, upstream, self.server):
            s.close()


@pytest.fixture
def sshd(tmp_path):
    need_sshd()
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    host_key, user_key = tmp_path / "host_key", tmp_path / "user_key"
    for key in (host_key, user_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (tmp_path / "authorized_keys").write_text((tmp_path / "user_key.pub").read_text())
    data = tmp_path / "data"
    port = free_port()
    user = os.environ.get("USER", "root") if os.geteuid() else "root"
    config = tmp_path / "sshd_config"
    config.write_text(f"""
Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {tmp_path}/sshd.pid
AuthorizedKeysFile {tmp_path}/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
ClientAliveInterval 1
ClientAliveCountMax 2
LogLevel ERROR
Match User {user}
    ForceCommand env TUTOR_DATA_DIR={data} {TUTOR} sigmoid-2-2-2
""")
    proc = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(tmp_path / "sshd.log")])
    end = time.monotonic() + 10
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("sshd did not start: " + (tmp_path / "sshd.log").read_text())
    yield {"port": port, "key": user_key, "user": user, "data": data}
    proc.terminate()
    proc.wait(timeout=10)


def test_ssh_session_saves_answers_and_leaves_nothing_behind(sshd, tmp_path):
    relay = Relay(sshd["port"])
    relay.start()
    ssh = [
        "ssh",
        "-tt",
        "-i",
        str(sshd["key"]),
        "-p",
        str(relay.port),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        f"{sshd['user']}@127.0.0.1",
    ]
    term = Tmux(tmp_path, ssh, env={"TUTOR_DATA_DIR": str(tmp_path / "unused")})
    try:
        term.wait_for(lambda s: "sum_h1 =" in s, timeout=30)
        term.type("0.41")
        term.key("Enter")
        term.wait_for(lambda s: "out_h1 =" in s)
        assert tutor_processes(sshd["data"]), "the tutor is not running under sshd"
        relay.dead.set()  # the link goes dead, silently
        end = time.monotonic() + 30
        while tutor_processes(sshd["data"]) and time.monotonic() < end:
            time.sleep(0.2)
        assert tutor_processes(sshd["data"]) == [], "a tutor process outlived the dead link"
    finally:
        relay.stop.set()
        term.close()
    saved = ProgressStore(sshd["data"]).lesson_state("sigmoid-2-2-2")  # state file + log
    assert saved["steps"]["sum_h1"]["status"] == "correct"
