"""What a class server's preloaded process builds once, before it forks the sessions, so
that every session shares it instead of building its own copy."""

from __future__ import annotations


def warm_up() -> None:
    """Build the shared parts (nothing beyond the imports yet)."""
