"""The progress folder's files, opened so that a hostile or broken folder can neither hang the
tutor, nor make it write elsewhere, nor leave a torn or public file behind.

- Every file is opened with ``O_NOFOLLOW`` (a symbolic link in its place is refused, never
  written through) and ``O_NONBLOCK`` (a FIFO in its place cannot hang the open), then
  checked with ``fstat`` to be a regular file before anything is read or written.
- The folder itself must not be a symbolic link: it is checked with ``lstat`` and opened
  with ``O_NOFOLLOW`` before its mode is set, so a link's target is never chmodded. Folders
  above it may be links (``/tmp`` is one on some systems).
- Writes loop until every byte is written: a short write on a full disk raises instead of
  leaving half a file. Files are created 0600, atomically replaced, and removed again if
  they could not be written whole.

What cannot be used raises :class:`ProgressUnusable`, whose message names the file (relative
to the folder) and says what is wrong, in one line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from pathlib import Path

from tutor.progress.interface import ProgressUnusable

#: added to every open: never follow a link in the folder, never block on a FIFO
SAFE = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
READ_CHUNK = 1 << 20


class FileTooLarge(ValueError):
    """A file over the size the reader accepts (it is then treated as damaged)."""


def kind(mode: int) -> str:
    """What a file that is not a regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def not_regular(name: str, mode: int) -> ProgressUnusable:
    return ProgressUnusable(f"{name} is {kind(mode)}, not a regular file")


def check_folder(root: Path) -> None:
    """Refuse a progress folder that is a symbolic link or not a folder (a missing one is
    fine: it is made when something is written)."""
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        return
    except OSError as err:
        raise ProgressUnusable(
            f"it cannot be looked at ({_words(err)})", err.errno or errno.EIO
        ) from None
    if stat.S_ISLNK(info.st_mode):
        raise ProgressUnusable(
            f"{root.name} is a symbolic link, which the tutor does not follow (set "
            "TUTOR_DATA_DIR to the folder it points to)"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise ProgressUnusable(f"{root.name} is {kind(info.st_mode)}, not a folder")


def private_folder(root: Path) -> None:
    """Make the folder if it is missing (0700) and set it back to 0700, through a descriptor
    opened without following a link: a link in its place is refused, its target untouched."""
    check_folder(root)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            check_folder(root)  # replaced under us: say what it is now
        raise
    try:
        with contextlib.suppress(OSError):  # not ours (a lab's shared folder): leave it
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def open_regular(path: Path, flags: int, mode: int = 0o600) -> int:
    """A descriptor of ``path`` opened with ``flags`` and :data:`SAFE`, checked to be a
    regular file. ``FileNotFoundError`` passes through (a missing file is the caller's
    business); a link, a folder, a FIFO or a device raises :class:`ProgressUnusable`."""
    return open_regular_sized(path, flags, mode)[0]


def open_regular_sized(path: Path, flags: int, mode: int = 0o600) -> tuple[int, int]:
    """:func:`open_regular`, and the file's size from the same ``fstat`` (the answer path
    counts its system calls)."""
    try:
        fd = os.open(path, flags | SAFE, mode)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO, errno.ENODEV):
            # a link (O_NOFOLLOW), a folder opened for writing, a FIFO without a reader
            try:
                found = os.lstat(path).st_mode
            except OSError:
                found = None
            if found is not None and not stat.S_ISREG(found):
                raise not_regular(path.name, found) from None
        if err.errno in (errno.EACCES, errno.EPERM):
            raise ProgressUnusable(f"{path.name}: permission denied", err.errno) from None
        raise
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise not_regular(path.name, info.st_mode)
    return fd, info.st_size


def read_regular(path: Path, limit: int | None = None) -> bytes | None:
    """The whole of a regular file, or None if there is none; never blocks, never follows a
    link. Over ``limit`` bytes raises :class:`FileTooLarge`."""
    try:
        fd = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        if limit is not None and os.fstat(fd).st_size > limit:
            raise FileTooLarge(f"over {limit // (1024 * 1024)} MB")
        chunks = []
        while chunk := os.read(fd, READ_CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as err:
        raise ProgressUnusable(
            f"{path.name} cannot be read ({_words(err)})", err.errno or errno.EIO
        ) from None
    finally:
        os.close(fd)


def regular_size(path: Path) -> int:
    """The size of a regular file, 0 if it is missing; anything else in its place raises."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return 0
    if not stat.S_ISREG(info.st_mode):
        raise not_regular(path.name, info.st_mode)
    return info.st_size


def write_all(fd: int, data: bytes) -> None:
    """Write every byte: ``os.write`` may write part of it (a disk that just filled up), and
    the rest then raises, instead of being silently dropped."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[n:]


def create_private(path: Path) -> int:
    """A new file, 0600 whatever the umask; never an existing file or a link's target."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | SAFE, 0o600)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o600)
    return fd


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a new private file and flush it to disk; if that fails, the file
    is removed again, so no half-written copy is left."""
    fd = create_private(path)
    try:
        write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: a temp file written whole and fsynced,
    renamed over it, the folder fsynced. Readers see the old file or the new, never a torn
    one; a failed write leaves the old file and no temp file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # left by a write that failed (or a link): never written through
    write_new(tmp, data)
    try:
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def aside_name(path: Path, tag: str) -> Path:
    """A free name next to ``path`` for a copy kept aside: ``NAME.TAG-YYYYMMDD-HHMMSS``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.{tag}-{stamp}")
    n = 1
    while os.path.lexists(kept):
        n += 1
        kept = path.with_name(f"{path.name}.{tag}-{stamp}-{n}")
    return kept


def copy_aside(path: Path, data: bytes, tag: str) -> Path:
    """Keep ``data`` (a file's bytes as read) in a new private file next to it."""
    while True:
        kept = aside_name(path, tag)
        try:
            write_new(kept, data)
        except FileExistsError:  # taken between the look and the open: the next name
            continue
        return kept


def rename_aside(path: Path, tag: str) -> Path:
    """Move a file aside under a new name (the name itself, never a link's target)."""
    kept = aside_name(path, tag)
    os.rename(path, kept)
    return kept


def _words(err: OSError) -> str:
    return (err.strerror or type(err).__name__).lower()
