"""The floor for start-up and memory: a bare Textual app with one Static and one Input."""

from textual.app import App, ComposeResult
from textual.widgets import Input, Static


class Bare(App):
    def compose(self) -> ComposeResult:
        yield Static("ready =")
        yield Input(placeholder="type here")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False


if __name__ == "__main__":
    Bare().run()
