"""A small lazy registry shared by translation backends and scorers.

Entries are "module:attribute" strings so that listing names never imports torch
or transformers (lm-evaluation-harness does the same); a duplicate name is a
programming error, an unknown name is a user error answered with "did you mean".
"""

from __future__ import annotations

import difflib
import importlib
from typing import Generic, TypeVar

from evalkit.errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._targets: dict[str, str] = {}

    def register(self, name: str, target: str) -> None:
        if name in self._targets:
            raise RegistryError(f"{self.kind} {name!r} is already registered (to {self._targets[name]})")
        self._targets[name] = target

    def names(self) -> list[str]:
        return sorted(self._targets)

    def registered(self) -> list[str]:
        """Names in registration order."""
        return list(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def get(self, name: str) -> type[T]:
        try:
            target = self._targets[name]
        except KeyError:
            raise RegistryError(self.unknown_message(name)) from None
        module_name, _, attr = target.partition(":")
        return getattr(importlib.import_module(module_name), attr)

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown {self.kind} {name!r}{hint} (available: {', '.join(self.names())})"
