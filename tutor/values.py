"""Immutable value classes, made without ``@dataclass``.

``@dataclass(frozen=True)`` compiles six methods for each class when its module is imported,
about a millisecond a class here, and ``tutor solve`` imports some thirty such classes before
it prints anything. A :class:`Value` lists its parts as annotations, as a dataclass does
(defaults as class attributes, :func:`factory` for a fresh dict each time); its ``__init__``,
equality, hash and ``repr`` are these few methods, compiled once with this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

V = TypeVar("V", bound="Value")

set_part = object.__setattr__  # how a written-out __init__ sets a part


class factory:  # noqa: N801 - used like dataclasses.field(default_factory=…)
    """A default made afresh for each value (a dict, say), as ``default_factory`` does."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


class Value:
    """Parts in annotation order (a base class's first); equal to a value of the same class
    with equal parts, hashed and shown by them. ``_hidden`` parts are neither compared nor
    shown (``field(compare=False, repr=False)``). A subclass may write its own ``__init__``
    (a fast one, for classes made by the thousand) and name its parts in ``_parts``."""

    __slots__ = ()
    _parts: tuple[str, ...] = ()
    _hidden: frozenset[str] = frozenset()
    _shown: tuple[str, ...] = ()  # the parts compared and shown: _parts without _hidden

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_parts" not in cls.__dict__:
            own = tuple(n for n in cls.__annotations__ if not n.startswith("_"))  # its own
            cls._parts = tuple(dict.fromkeys(cls._parts + own))
        cls._shown = tuple(p for p in cls._parts if p not in cls._hidden)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        parts = cls._parts
        if len(args) > len(parts):
            raise TypeError(f"{cls.__name__} takes at most {len(parts)} parts")
        given = dict(zip(parts, args, strict=False))  # the rest by name or default
        for name, value in kwargs.items():
            if name not in parts or name in given:
                raise TypeError(f"{cls.__name__}: unexpected or repeated part {name!r}")
            given[name] = value
        for name in parts:
            if name in given:
                value = given[name]
            else:
                value = getattr(cls, name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{cls.__name__} needs {name!r}")
                if isinstance(value, factory):
                    value = value.make()
            set_part(self, name, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        """Work out what follows from the parts (as a dataclass's ``__post_init__``)."""

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # as tuples: a part that is itself counts as equal

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, p) for p in self._shown)

    def __reduce__(self) -> tuple[Any, ...]:
        """For ``copy`` (slots and a refusing ``__setattr__`` defeat its usual way)."""
        return (_rebuild, (type(self), {p: getattr(self, p) for p in self._parts}))

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._key()))

    def __repr__(self) -> str:
        parts = ", ".join(f"{p}={getattr(self, p)!r}" for p in self._shown)
        return f"{type(self).__name__}({parts})"


_MISSING = object()


def _rebuild(cls: type[V], parts: dict[str, Any]) -> V:
    return cls(**parts)


def replace(obj: V, /, **changes: Any) -> V:
    """A copy of ``obj`` with some parts changed, as ``dataclasses.replace`` does."""
    unknown = set(changes) - set(obj._parts)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no part {sorted(unknown)[0]!r}")
    return type(obj)(**{p: changes.get(p, getattr(obj, p)) for p in obj._parts})
