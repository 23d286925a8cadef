"""The test-set format registry: name → reader class, imported lazily (entries are "module:Class" strings).

Its own module so that `base.TestSetConfig` can check a format name without
importing the package that imports `base` (no import cycle). A third-party
layout registers the same way: `TESTSETS.register("name", "pkg.module:Reader")`.
"""

from evalkit.registry import Registry

TESTSETS: Registry = Registry("test set format")
TESTSETS.register("ntrex128", "evalkit.testsets.ntrex128:Ntrex128Reader")
TESTSETS.register("flores200", "evalkit.testsets.flores200:Flores200Reader")
TESTSETS.register("sacrebleu", "evalkit.testsets.sacrebleu_cache:SacrebleuCacheReader")
TESTSETS.register("tsv", "evalkit.testsets.tsv:TsvReader")
TESTSETS.register("jsonl", "evalkit.testsets.jsonl:JsonlReader")
