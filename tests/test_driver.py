"""The choice of terminal driver: the quiet one on a Linux terminal, Textual's own otherwise,
and Textual's own whenever the quiet one cannot be used; the served one in a `tutor serve` tab."""

from __future__ import annotations

import sys

from textual.driver import Driver
from textual.drivers.headless_driver import HeadlessDriver
from textual.drivers.linux_driver import LinuxDriver

from tutor.ui.driver import quiet_driver


def test_a_linux_terminal_gets_the_quiet_driver():
    from tutor.ui.quiet_linux import QuietLinuxDriver

    assert quiet_driver(LinuxDriver) is QuietLinuxDriver
    assert issubclass(QuietLinuxDriver, LinuxDriver)


def test_other_drivers_are_kept():
    assert quiet_driver(HeadlessDriver) is HeadlessDriver


def test_textuals_own_driver_when_the_quiet_one_cannot_be_imported(monkeypatch):
    monkeypatch.setitem(sys.modules, "tutor.ui.quiet_linux", None)  # its import now fails
    assert quiet_driver(LinuxDriver) is LinuxDriver


def test_textuals_own_driver_when_its_input_thread_is_gone(monkeypatch):
    """A release whose Linux driver no longer has the method the quiet driver replaces."""
    moved = type("LinuxDriver", (Driver,), {"__module__": "textual.drivers.linux_driver"})
    assert quiet_driver(moved) is moved


def test_a_served_tab_gets_the_driver_that_quits_without_its_server(monkeypatch):
    from textual.drivers.web_driver import WebDriver

    from tutor.ui.driver import served_driver
    from tutor.ui.served import ServedWebDriver

    assert served_driver(WebDriver) is ServedWebDriver and issubclass(ServedWebDriver, WebDriver)
    assert served_driver(LinuxDriver) is LinuxDriver
    monkeypatch.setitem(sys.modules, "tutor.ui.served", None)
    assert served_driver(WebDriver) is WebDriver
