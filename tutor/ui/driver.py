"""Which terminal driver the app runs on: Textual's own, except on a Linux terminal, where
the quiet driver (``tutor.ui.quiet_linux``) sleeps until there is input instead of waking ten
times a second, and under `tutor serve`, where the served driver (``tutor.ui.served``) quits
when the server goes away. The quiet driver builds on private parts of Textual; if a Textual
release has moved them, the app starts on Textual's own driver rather than failing to
start."""

from __future__ import annotations

from textual.driver import Driver

#: what the quiet driver overrides or reads, on the driver and its input parser
NEEDED = ("run_input_thread", "start_application_mode", "close", "process_message")


def quiet_driver(chosen: type[Driver]) -> type[Driver]:
    """The quiet driver in place of Textual's Linux driver, when it can be used."""
    if (chosen.__module__, chosen.__name__) != ("textual.drivers.linux_driver", "LinuxDriver"):
        return chosen
    try:
        from tutor.ui.quiet_linux import QuietLinuxDriver
    except ImportError:
        return chosen
    if not all(hasattr(chosen, name) for name in NEEDED):
        return chosen
    return QuietLinuxDriver


def served_driver(chosen: type[Driver]) -> type[Driver]:
    """The served driver in place of Textual's web driver (a `tutor serve` tab)."""
    if (chosen.__module__, chosen.__name__) != ("textual.drivers.web_driver", "WebDriver"):
        return chosen
    try:
        from tutor.ui.served import ServedWebDriver
    except ImportError:  # a Textual release that moved its web driver
        return chosen
    return ServedWebDriver
