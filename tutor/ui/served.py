"""The driver of a `tutor serve` tab: Textual's web driver, which quits when the server goes.

Textual's web driver reads the server's packets on stdin. When stdin closes without a
``quit`` (the server was killed), its input thread just ends, and the app runs on with nobody
to talk to, holding the learner's session lock: every tab of the next `tutor serve` would be
refused. This one quits then, as the app does when its terminal closes, and keeps every
answer (they are saved as they are given).
"""

from __future__ import annotations

from textual import messages
from textual.drivers.web_driver import WebDriver


class ServedWebDriver(WebDriver):
    def run_input_thread(self) -> None:
        super().run_input_thread()
        stopping = getattr(self, "exit_event", None)  # set when the app itself stops
        if stopping is not None and not stopping.is_set():  # so stdin closed: nobody is there
            self._app.post_message(messages.ExitApp())
