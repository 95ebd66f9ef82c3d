"""A Linux terminal driver whose input thread sleeps until there is something to do.

Textual's own driver wakes its input thread ten times a second, to look for the exit signal
and for a lone Esc whose timeout has passed. On a lab host with a hundred idle students that
is a thousand wake-ups a second for nothing, and it is all of an idle tutor's CPU use. This
driver blocks in ``select`` until a key arrives, until the parser's own Esc timeout is due,
or until a byte on a private pipe says that input is being switched off.

It changes nothing else: parsing, events, resizes and output are Textual's. It builds on
private parts of Textual, so it is imported only through ``tutor.ui.driver``, which falls back
to Textual's own driver when a release has moved them.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

FALLBACK_POLL = 0.1  # seconds: Textual's own interval, used if the parser changes shape


class _WakeUp(threading.Event):
    """The driver's exit signal, with a private pipe that becomes readable when it is set,
    so that a thread sleeping in ``select`` wakes up. The pipe is made when input starts and
    closed with the driver (a suspend closes it; the resume makes a new one)."""

    def __init__(self) -> None:
        super().__init__()
        self.read_fd = self.write_fd = -1

    def open(self) -> None:
        if self.read_fd < 0:
            self.read_fd, self.write_fd = os.pipe()
            os.set_blocking(self.read_fd, False)
            os.set_blocking(self.write_fd, False)

    def set(self) -> None:
        super().set()
        if self.write_fd < 0:
            return
        try:
            os.write(self.write_fd, b"x")
        except OSError:  # the pipe is full: the thread has a wake-up waiting already
            pass

    def drain(self) -> None:
        try:
            os.read(self.read_fd, 4096)
        except BlockingIOError:  # already drained
            pass

    def close(self) -> None:
        fds, self.read_fd, self.write_fd = (self.read_fd, self.write_fd), -1, -1
        for fd in fds:  # forgotten first: a closed descriptor's number may be reused
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


class QuietLinuxDriver(LinuxDriver):
    """LinuxDriver with an input thread that never polls."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake = _WakeUp()
        self.exit_event = self._wake

    def start_application_mode(self) -> None:
        self._wake.open()  # at the first start, and again on resuming after a suspend
        super().start_application_mode()

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events, sleeping while there is none."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake.read_fd, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def timeout() -> float | None:
            """Sleep until the parser's pending Esc is due, or until woken."""
            if not hasattr(parser, "_timeout_time"):  # Textual changed: poll as it does
                return FALLBACK_POLL
            due = parser._timeout_time
            return None if due is None else max(0.0, due - get_time())

        reading = True

        def process(events: list[tuple[Any, int]], final: bool = False) -> None:
            nonlocal reading
            for key, mask in events:
                if key.fd == self._wake.read_fd:
                    self._wake.drain()
                elif mask & selectors.EVENT_READ:
                    data = os.read(self.fileno, 4096)
                    if not data:  # end of input: stop watching it rather than spin on it
                        selector.unregister(self.fileno)
                        reading = False
                        continue
                    # half a UTF-8 character decodes to "" until its other half arrives;
                    # an empty feed would tell the parser that input has ended
                    text = decode(data, final=final)
                    if text:
                        for event in parser.feed(text):
                            self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(timeout()))
            if reading:
                selector.unregister(self.fileno)
                process(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except Exception:  # noqa: BLE001 - Textual ignores a parser error at exit too
                pass

    def close(self) -> None:
        super().close()
        self._wake.close()
