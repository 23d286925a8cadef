"""The default executor: every backend runs in this Python process, one system after another (evalkit's behaviour
before executors existed). Needs nothing beyond evalkit itself."""

from __future__ import annotations

from evalkit.backends import BACKENDS
from evalkit.backends.base import Translator
from evalkit.config import SystemConfig
from evalkit.executors.base import Executor


class InProcessExecutor(Executor):
    name = "in-process"

    def _translator(self, system: SystemConfig) -> Translator:
        return BACKENDS.get(system.backend)(system.name, system.model, system.parsed_options)
