"""Translation backends: one class per file, registered by name.

A third-party backend registers the same way: `BACKENDS.register("name", "pkg.module:Class")`.
"""

from evalkit.registry import Registry

BACKENDS: Registry = Registry("backend")
BACKENDS.register("copy", "evalkit.backends.copy_source:CopyTranslator")
BACKENDS.register("seq2seq", "evalkit.backends.seq2seq:Seq2SeqTranslator")
BACKENDS.register("ctranslate2", "evalkit.backends.ct2:CTranslate2Translator")
BACKENDS.register("causal", "evalkit.backends.causal:CausalTranslator")
BACKENDS.register("precomputed", "evalkit.backends.precomputed:PrecomputedTranslator")
BACKENDS.register("openai", "evalkit.backends.openai_compat:OpenAITranslator")
