"""The class server's host key: an ed25519 key in OpenSSH's private key format, which
asyncssh and ``ssh-keygen`` both read. Made once by ``tutor class init``."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


class HostKeyError(Exception):
    """No way to make a host key here; ``str()`` says what to install."""


def make_host_key() -> bytes:
    """A new ed25519 private key in OpenSSH's format: with the ``cryptography`` package
    (which asyncssh brings, in the ``class`` extra), else with OpenSSH's ``ssh-keygen``."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError:
        return _ssh_keygen()
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )


def _ssh_keygen() -> bytes:
    tool = shutil.which("ssh-keygen")
    if tool is None:
        raise HostKeyError(
            "no way to make the server's host key: install backprop-tutor[class] "
            "(or OpenSSH's ssh-keygen)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "key"
        subprocess.run(
            [tool, "-q", "-t", "ed25519", "-N", "", "-C", "tutor class", "-f", str(path)],
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
        return path.read_bytes()
