"""Standard line-parallel test sets read from local files: one reader class per layout, registered by name.

The registry `TESTSETS` (in formats.py) maps a format name to its reader; a third-party layout registers the
same way: `TESTSETS.register("name", "pkg.module:Reader")`.
"""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.testsets.base import TestSet, TestSetConfig, TestSetError, TestSetReader
from evalkit.testsets.formats import TESTSETS

__all__ = ["TESTSETS", "TestSet", "TestSetConfig", "TestSetError", "TestSetReader", "read_testset"]


def read_testset(config: TestSetConfig, source_lang: str, target_langs: Sequence[str]) -> TestSet:
    """Read `config`'s test set: pivot rows in `source_lang` and a reference per target language it has.

    Target codes are deduplicated (first occurrence kept); the pivot language is an error if the set lacks it,
    a target language is not (it is in `TestSet.missing` with the reason).
    """
    targets = list(dict.fromkeys(target_langs))
    return TESTSETS.get(config.format)().read(config, source_lang, targets)
