"""The floor for start-up and memory: a bare Textual app with one Static and one Input.

With ``--numpy`` it also imports NumPy in a thread after its first paint, as the tutor
does: a reference that shows how much of the tutor's memory is NumPy's alone.
"""

import sys
import threading

from textual.app import App, ComposeResult
from textual.widgets import Input, Static


class Bare(App):
    def compose(self) -> ComposeResult:
        yield Static("ready =")
        yield Input(placeholder="type here")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        if "--numpy" in sys.argv:
            self.call_after_refresh(_import_numpy)


def _import_numpy() -> None:
    def work() -> None:
        import numpy

        numpy.ones((2, 2)) @ numpy.ones((2, 2))

    threading.Thread(target=work, daemon=True).start()


if __name__ == "__main__":
    Bare().run()
