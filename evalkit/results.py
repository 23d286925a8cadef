"""Plain, serialisable records of a run. Reports are views of these.

run.json is a contract read by `evalkit compare/check` and by users' scripts;
`SCHEMA_VERSION` changes whenever a field changes meaning or disappears.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SCHEMA_VERSION = 1

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

    @property
    def source_line(self) -> int:
        return self.source_lines[0]

    def to_dict(self) -> dict[str, Any]:
        return {"source_line": self.source_line, **asdict(self)}


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["paragraphs"] = [p.to_dict() for p in self.paragraphs]
        return data

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
class RunResult:
    run_id: str
    created: str  # ISO 8601, UTC
    evalkit_version: str
    config: dict[str, Any]
    pivot: DocumentRecord
    target: DocumentRecord
    alignment: AlignmentRecord
    systems: list[SystemResult]
    baseline: str | None = None  # the system every other one was tested against
    unavailable_metrics: dict[str, str] = field(default_factory=dict)  # metric → why it was not computed
    seconds: dict[str, float] = field(default_factory=dict)  # pairing (read, clean, align), total
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["systems"] = [s.to_dict() for s in self.systems]
        return {"schema_version": data.pop("schema_version"), **data}

    def system(self, name: str) -> SystemResult:
        return next(s for s in self.systems if s.name == name)

    def higher_is_better(self, metric: str) -> bool:
        """The direction run.json records for a metric; for files written before it was recorded, a name list."""
        for system in self.systems:
            score = system.corpus_scores.get(metric)
            if score is not None and score.higher_is_better is not None:
                return score.higher_is_better
        return metric not in LOWER_IS_BETTER


def run_from_dict(data: dict[str, Any], source: str = "run.json") -> RunResult:
    """Rebuild a RunResult from run.json; `source` names the file in errors."""
    from evalkit.errors import ResultsError

    version = data.get("schema_version") if isinstance(data, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        raise ResultsError(f"{source}: not an evalkit run.json (expected an integer schema_version)")
    if version > SCHEMA_VERSION:
        raise ResultsError(f"{source}: schema_version {version} is newer than this evalkit reads ({SCHEMA_VERSION}); upgrade evalkit")
    try:
        systems = []
        for s in data["systems"]:
            s = dict(s)
            s["corpus_scores"] = {k: Score(**v) for k, v in s["corpus_scores"].items()}
            s["paragraphs"] = [
                ParagraphResult(**{k: v for k, v in p.items() if k != "source_line"}) for p in s["paragraphs"]
            ]
            systems.append(SystemResult(**s))
        return RunResult(
            run_id=data["run_id"],
            created=data["created"],
            evalkit_version=data["evalkit_version"],
            config=data["config"],
            pivot=DocumentRecord(**data["pivot"]),
            target=DocumentRecord(**data["target"]),
            alignment=AlignmentRecord(**data["alignment"]),
            systems=systems,
            baseline=data.get("baseline"),
            unavailable_metrics=data.get("unavailable_metrics", {}),
            seconds=data.get("seconds", {}),
            schema_version=version,
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
