"""Typed errors whose message is ready to show a user as one line.

Library code raises these; only `evalkit.cli` turns them into stderr text and an
exit code, so a notebook caller gets a normal exception it can catch.
"""


class EvalkitError(Exception):
    """Base class: `str(err)` is the one line a user sees."""

    exit_code = 2
    label = "error"  # what the CLI prints before the message


class ConfigError(EvalkitError):
    """The run config is missing, malformed or names something that does not exist."""


class CorpusError(EvalkitError):
    """A corpus file cannot be read, or its documents cannot be paired as configured."""


class NotATranslationError(CorpusError):
    """The reference document does not translate the pivot: scoring it would produce meaningless numbers."""


class LexiconError(EvalkitError):
    """A translation lexicon for the aligner (or the sentence pairs to build one from) cannot be read."""


class RegistryError(EvalkitError):
    """An unknown or duplicate backend/metric name."""


class ModelUnavailableError(EvalkitError):
    """Model weights are not available locally (these machines cannot reach the hub)."""


class ConversionError(EvalkitError):
    """A Transformers model folder cannot be converted to a CTranslate2 folder."""


class TranslationError(EvalkitError):
    """A backend loaded but failed while translating."""


class MetricUnavailableError(EvalkitError):
    """A metric's package or weights are not installed here; the run goes on without it."""


class ResultsError(EvalkitError):
    """A results folder or run.json is missing, malformed, or from an incompatible run."""


class CacheError(EvalkitError):
    """The translation cache file cannot be opened, read or written."""


class ScoringError(EvalkitError):
    """Inputs to a metric are invalid (unaligned, empty reference, count mismatch)."""


class StrictModeError(EvalkitError):
    """`--strict` was given and at least one system did not produce scores."""

    exit_code = 1


class TerminationRequested(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so a run stops at the same places and keeps the same work (the CLI installs it)."""


class RunInterrupted(EvalkitError):
    """Ctrl-C or SIGTERM stopped a run: every finished batch is in the cache, and a re-run resumes from there."""

    label = "interrupted"

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code
