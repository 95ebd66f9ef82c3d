"""`tutor class serve`: the SSH server of a class.

The server (``server``: asyncssh, authentication, channels, caps, logging) never imports the
interface. Each student's session runs in a process forked from one preloaded process
(``forkserver``), which has imported the interface once and frozen it (``gc.freeze``), so the
sessions share those pages; the session itself (``session``) runs the app on a pty with the
class database as its progress store, under the course's rules (``rules``).
"""
