"""Plain, serialisable records of a run. Reports are views of these.

run.json is a contract read by `evalkit compare/check` and by users' scripts;
`SCHEMA_VERSION` changes whenever a field changes meaning or disappears.

Version 2 (many target languages × many documents) stays flat for scripts:
`systems` holds one entry per system × target language, each with its
paragraphs (every paragraph names its `lang` and `document`); `languages` and
`documents` hold the pairing verdicts and the per-document scores. Version 1
files (one pivot, one reference) are read into the same shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SCHEMA_VERSION = 2

Status = Literal["ok", "unavailable", "failed"]

# Only for run.json files written before each score recorded its direction.
LOWER_IS_BETTER = frozenset({"ter"})


@dataclass
class Score:
    score: float
    signature: str
    ci_low: float | None = None  # 95% bootstrap interval over paragraphs (percentile method)
    ci_high: float | None = None
    # TER: False. Recorded so readers of run.json need no evalkit code; None in run.json files written
    # before it was recorded (readers then ask the metric registry).
    higher_is_better: bool | None = None
    # metric-specific figures from the same statistics (numbers: precision, recall, paragraphs with errors)
    summary: dict[str, float] | None = None

    @property
    def half_width(self) -> float | None:
        """What reports print after ±: half the interval's width (the interval itself may be asymmetric)."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / 2


@dataclass
class ParagraphResult:
    source_lines: list[int]  # 1-based lines in the pivot file (several when the translator merged paragraphs)
    reference_lines: list[int]  # 1-based lines in the reference file
    source: str
    reference: str
    candidate: str
    alignment_confidence: float
    scores: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. a source paragraph split to fit the model's input limit
    details: dict[str, Any] = field(default_factory=dict)  # metric → its per-paragraph findings (Scorer.paragraph_details)
    lang: str = ""  # the reference's language
    document: str = ""  # the document id: the pivot file's name in a corpus, the set's document id in a test set

    @property
    def source_line(self) -> int:
        return self.source_lines[0]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"lang": data.pop("lang"), "document": data.pop("document"), "source_line": self.source_line, **data}


@dataclass
class SystemResult:
    name: str
    backend: str
    model: str | None
    status: Status
    reason: str | None = None
    signature: str | None = None  # the backend's: model, revision, decoding settings
    model_info: dict[str, Any] = field(default_factory=dict)
    corpus_scores: dict[str, Score] = field(default_factory=dict)
    paragraph_signatures: dict[str, str] = field(default_factory=dict)
    # against the run's baseline system: {"baseline": name, "metrics": {metric: {delta, p_bootstrap, p_randomization,
    # significant, better, ...}}}; None for the baseline itself and for systems without scores
    significance: dict[str, Any] | None = None
    paragraphs: list[ParagraphResult] = field(default_factory=list)
    translated: int = 0  # pivot paragraphs the backend translated in this run
    from_cache: int = 0  # pivot paragraphs answered by the translation cache
    # load: model loading; generate: inside the model's generate calls; evalkit: the rest of
    # translating (tokenising, batching, cache look-ups); score: all metrics
    seconds: dict[str, float] = field(default_factory=dict)
    lang: str = ""  # the target language this entry translated into and was scored in

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["paragraphs"] = [p.to_dict() for p in self.paragraphs]
        return {"name": data.pop("name"), "lang": data.pop("lang"), **data}

    def baseline_test(self, metric: str) -> tuple[float, float, bool] | None:
        """(delta, p, significant) against the baseline; p is the larger of the two tests' p-values."""
        test = (self.significance or {}).get("metrics", {}).get(metric)
        if not test:
            return None
        return test["delta"], max(test["p_bootstrap"], test.get("p_randomization", 0.0)), test["significant"]


@dataclass
class DocumentRecord:
    path: str
    lang: str  # as declared in the config
    detected_lang: str | None  # lingua's document-level answer
    lang_confidence: float
    paragraphs: int
    other_language_paragraphs: list[dict[str, Any]]  # {"line", "lang"}: kept paragraphs lingua labels otherwise
    dropped: list[dict[str, Any]]  # {"line", "reason", "text"}
    sha256: str | None = None  # of the file's bytes: two runs compare only on the same text (None: older run.json)


def file_sha256(path: str | Path) -> str | None:
    """The content hash recorded for a corpus document; None when the file cannot be read."""
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def changed_document(a: DocumentRecord, b: DocumentRecord) -> str | None:
    """Why two records of the 'same' document do not hold the same text, or None when they do (or cannot tell)."""
    if a.sha256 and b.sha256 and a.sha256 != b.sha256:
        return (f"{Path(a.path).name} changed between the runs (sha256 {a.sha256[:12]}… vs {b.sha256[:12]}…); "
                f"scores against different texts are not comparable: re-run both on the same corpus")
    return None


@dataclass
class AlignmentRecord:
    pairs: list[dict[str, Any]]  # {"source_lines", "target_lines", "confidence"}
    unmatched_source_lines: list[int]
    unmatched_target_lines: list[int]
    is_translation: bool
    pairing_score: float
    pairing_reason: str
    # pivot paragraphs and characters in total and inside aligned pairs: how much of the original was scored
    # ({} in run.json files written before it was recorded)
    coverage: dict[str, int] = field(default_factory=dict)


@dataclass
class DocumentEntry:
    """One pivot document against its reference in one target language: the pairing verdict and the document's scores."""

    document: str  # id: the pivot file's name (corpus) or the set's document id (test set)
    lang: str  # target language
    status: Literal["paired", "missing", "not-a-translation", "nothing-aligned"]
    reason: str | None = None  # why it is not scored (missing, not a translation, ...)
    pivot: DocumentRecord | None = None
    target: DocumentRecord | None = None  # None for a test set's line-parallel documents and for missing references
    alignment: AlignmentRecord | None = None  # None for line-parallel test sets: line i is line i
    paragraphs: int = 0  # scored paragraphs
    # system → metric → Score over this document's paragraphs (CIs from paragraph resamples)
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {"line", "reason"}: test-set rows not scored
    # how the reference's language was decided where the language detector alone was not trusted (Malay vs Indonesian)
    note: str | None = None
    # system → metric → {"delta", "p_bootstrap", "significant", "better"}: paired bootstrap over this document's
    # paragraphs against the run's baseline in the same language
    significance: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def scored(self) -> bool:
        return self.status == "paired" and self.paragraphs > 0


@dataclass
class LanguageEntry:
    """A target language of the run: scored, or why not."""

    lang: str
    status: Literal["ok", "missing"]
    reason: str | None = None
    documents: int = 0  # documents scored
    paragraphs: int = 0  # paragraphs scored
    missing_documents: int = 0  # pivot documents with no translation (or no accepted one) in this language
    # the bootstrap unit of this language's CIs and paired tests: "document" falls back to "paragraph" when the
    # language has a single document (resampling one document measures nothing)
    resample: str = "paragraph"


@dataclass
class RunResult:
    run_id: str
    created: str  # ISO 8601, UTC
    evalkit_version: str
    config: dict[str, Any]
    systems: list[SystemResult]  # one entry per system × target language
    languages: list[LanguageEntry] = field(default_factory=list)
    documents: list[DocumentEntry] = field(default_factory=list)
    # corpus documents in no pair, with the reason ({"path", "lang", "reason"}); empty for test sets
    unpaired: list[dict[str, Any]] = field(default_factory=list)
    # where the text came from: {"kind": "corpus", "path"} or {"kind": "testset", "format", "name", "path", "split"}
    source: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None  # the system every other one was tested against (in each language)
    unavailable_metrics: dict[str, str] = field(default_factory=dict)  # metric → why it was not computed
    seconds: dict[str, float] = field(default_factory=dict)  # pairing (read, clean, align), total
    resample: str = "paragraph"  # the bootstrap unit of every CI and paired test: paragraph or document
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["systems"] = [s.to_dict() for s in self.systems]
        return {"schema_version": data.pop("schema_version"), **data}

    # -- views ---------------------------------------------------------------------------
    @property
    def langs(self) -> list[str]:
        """Target languages in config order, scored or not."""
        found = [entry.lang for entry in self.languages]
        return found or list(dict.fromkeys(s.lang for s in self.systems))

    @property
    def scored_langs(self) -> list[str]:
        scored = {s.lang for s in self.systems}
        return [lang for lang in self.langs if lang in scored]

    def systems_in(self, lang: str) -> list[SystemResult]:
        return [s for s in self.systems if s.lang == lang]

    def system(self, name: str, lang: str | None = None) -> SystemResult:
        """A system's entry; `lang` may be omitted only when the run has one target language."""
        found = [s for s in self.systems if s.name == name and (lang is None or s.lang == lang)]
        if lang is None and len({s.lang for s in found}) > 1:
            raise KeyError(f"system {name!r} ran in {len(found)} languages; name one")
        if not found:
            raise KeyError(name)
        return found[0]

    def documents_in(self, lang: str) -> list[DocumentEntry]:
        return [d for d in self.documents if d.lang == lang]

    def single_document(self, lang: str | None = None) -> DocumentEntry | None:
        """The one paired document of a one-document run (in `lang`, or the only language), else None."""
        langs = [lang] if lang is not None else self.langs
        if len(langs) != 1:
            return None
        paired = [d for d in self.documents_in(langs[0]) if d.status != "missing"]
        return paired[0] if len(paired) == 1 else None

    @property
    def pivot(self) -> DocumentRecord | None:
        """The pivot of a run over one pivot document (every language shares it), else None."""
        pivots = {d.pivot.path: d.pivot for d in self.documents if d.pivot is not None}
        return next(iter(pivots.values())) if len(pivots) == 1 else None

    @property
    def target(self) -> DocumentRecord | None:
        """The reference of a one-document, one-language run, else None."""
        single = self.single_document()
        return single.target if single else None

    @property
    def alignment(self) -> AlignmentRecord | None:
        single = self.single_document()
        return single.alignment if single else None

    def resampled_by(self) -> str:
        """What the bootstrap resampled, for report headers: "document", "paragraph", or both and where."""
        units = {e.lang: e.resample for e in self.languages if e.status == "ok"}
        if self.resample != "document" or not units:
            return self.resample
        fallback = [lang for lang, unit in units.items() if unit != "document"]
        if not fallback:
            return "document"
        if len(fallback) == len(units):
            return "paragraph: every language has a single document"
        return f"document; paragraph in {', '.join(fallback)} (a single document)"

    def higher_is_better(self, metric: str) -> bool:
        """The direction run.json records for a metric; for files written before it was recorded, a name list."""
        for system in self.systems:
            score = system.corpus_scores.get(metric)
            if score is not None and score.higher_is_better is not None:
                return score.higher_is_better
        return metric not in LOWER_IS_BETTER


def single_document_run(
    run_id: str,
    created: str,
    evalkit_version: str,
    config: dict[str, Any],
    pivot: DocumentRecord,
    target: DocumentRecord,
    alignment: AlignmentRecord,
    systems: list[SystemResult],
    **fields: Any,
) -> RunResult:
    """A run over one pivot and one reference (what schema version 1 recorded), in today's shape."""
    lang, document = target.lang, Path(pivot.path).name
    for system in systems:
        system.lang = system.lang or lang
        for paragraph in system.paragraphs:
            paragraph.lang = paragraph.lang or lang
            paragraph.document = paragraph.document or document
    paragraphs = len(alignment.pairs)
    entry = DocumentEntry(document, lang, "paired" if alignment.is_translation else "not-a-translation",
                          None if alignment.is_translation else alignment.pairing_reason,
                          pivot, target, alignment, paragraphs)
    language = LanguageEntry(lang, "ok", None, 1, paragraphs)
    return RunResult(run_id, created, evalkit_version, config, systems, [language], [entry],
                     source={"kind": "corpus", "path": str(Path(pivot.path).parent)}, **fields)


def _score_map(data: dict[str, Any]) -> dict[str, Score]:
    return {k: Score(**v) for k, v in data.items()}


def _system_from_dict(s: dict[str, Any]) -> SystemResult:
    s = dict(s)
    s["corpus_scores"] = _score_map(s["corpus_scores"])
    s["paragraphs"] = [ParagraphResult(**{k: v for k, v in p.items() if k != "source_line"}) for p in s["paragraphs"]]
    return SystemResult(**s)


def _document_from_dict(d: dict[str, Any]) -> DocumentEntry:
    d = dict(d)
    for side in ("pivot", "target"):
        d[side] = DocumentRecord(**d[side]) if d.get(side) else None
    d["alignment"] = AlignmentRecord(**d["alignment"]) if d.get("alignment") else None
    d["scores"] = {system: _score_map(metrics) for system, metrics in d.get("scores", {}).items()}
    return DocumentEntry(**d)


def run_from_dict(data: dict[str, Any], source: str = "run.json") -> RunResult:
    """Rebuild a RunResult from run.json (version 1 or 2); `source` names the file in errors."""
    from evalkit.errors import ResultsError

    version = data.get("schema_version") if isinstance(data, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        raise ResultsError(f"{source}: not an evalkit run.json (expected an integer schema_version)")
    if version > SCHEMA_VERSION:
        raise ResultsError(f"{source}: schema_version {version} is newer than this evalkit reads ({SCHEMA_VERSION}); upgrade evalkit")
    try:
        systems = [_system_from_dict(s) for s in data["systems"]]
        common = dict(
            baseline=data.get("baseline"),
            unavailable_metrics=data.get("unavailable_metrics", {}),
            seconds=data.get("seconds", {}),
        )
        if version == 1:
            run = single_document_run(
                data["run_id"], data["created"], data["evalkit_version"], data["config"],
                DocumentRecord(**data["pivot"]), DocumentRecord(**data["target"]), AlignmentRecord(**data["alignment"]),
                systems, **common,
            )
            run.schema_version = 1
            return run
        return RunResult(
            run_id=data["run_id"],
            created=data["created"],
            evalkit_version=data["evalkit_version"],
            config=data["config"],
            systems=systems,
            languages=[LanguageEntry(**entry) for entry in data["languages"]],
            documents=[_document_from_dict(entry) for entry in data["documents"]],
            unpaired=data.get("unpaired", []),
            source=data.get("source", {}),
            resample=data.get("resample", "paragraph"),
            schema_version=version,
            **common,
        )
    except KeyError as exc:
        raise ResultsError(f"{source}: missing field {exc.args[0]!r}") from None
    except (TypeError, AttributeError, ValueError) as exc:
        raise ResultsError(f"{source}: unexpected structure ({exc})") from None


def load_run(path: str | Path) -> RunResult:
    """A run from its folder or its run.json."""
    import json

    from evalkit.errors import ResultsError

    path = Path(path)
    file = path / "run.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no run.json here; expected a results/<run-id>/ folder or its run.json") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{file}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{file}: cannot read ({exc})") from None
    return run_from_dict(data, str(file))
