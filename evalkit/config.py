"""Run configuration: YAML validated once, at load time, by closed pydantic models.

Every path in a config is relative to the config file, so a config means the
same thing whatever directory evalkit is started from. Backend options are
validated by the backend's own `Options` model here, before any model is
loaded, so a typo fails in milliseconds with the field named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evalkit.backends import BACKENDS
from evalkit.backends.base import BackendOptions
from evalkit.errors import ConfigError, EvalkitError
from evalkit.languages import LANGUAGES
from evalkit.option_types import path_role, resolve_model, resolve_option
from evalkit.scorers.base import ScorerOptions
from evalkit.scorers import METRICS, default_metric_names
from evalkit.testsets.base import TestSetConfig


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentConfig(_Closed):
    lang: str = Field(description="ISO 639-1 code")
    file: Path | None = Field(
        None, description="file in the corpus folder; omitted: every pivot-language document is a pivot (pivot), "
                          "or the translation is found in the corpus (target)")
    check_lang: bool = Field(True, description="refuse the run when the text is detected to be in another language")

    @field_validator("lang")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"unknown language code {value!r}; expected one of {', '.join(sorted(LANGUAGES))}")
        return value


class SystemConfig(_Closed):
    name: str = Field(min_length=1)
    backend: str
    model: str | Path | None = Field(None, description="hub id, or a local folder (relative to the config file)")
    options: dict[str, Any] = Field(default_factory=dict)
    parsed_options: BackendOptions = Field(
        default_factory=BackendOptions, exclude=True, description="`options` validated by the backend (set while the RunConfig is built)"
    )

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in BACKENDS:
            raise ValueError(BACKENDS.unknown_message(value))
        return value


class MetricConfig(_Closed):
    """A metric by name, with its options: `chrf`, or `{name: comet, model: ../models/wmt22-comet-da}`."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)
    parsed_options: ScorerOptions = Field(
        default_factory=ScorerOptions, exclude=True, description="`options` validated by the metric (set while the RunConfig is built)"
    )

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, dict) and "options" not in value and "parsed_options" not in value:
            return {"name": value.get("name"), "options": {k: v for k, v in value.items() if k != "name"}}
        return value

    @field_validator("name")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(METRICS.unknown_message(value))
        return value


class StatisticsConfig(_Closed):
    """Uncertainty and significance settings; the seed is recorded so numbers can be reproduced."""

    baseline: str | None = Field(None, description="system every other is tested against; default: the copy system, else the first")
    bootstrap_resamples: int = Field(1000, ge=0, description="paragraph resamples for 95% CIs; 0 = no CIs")
    # The paired tests have their own count: with too few resamples a bootstrap p-value
    # cannot fall below alpha, and a regression gate built on it could never fail.
    paired_resamples: int = Field(1000, ge=100, description="paired-bootstrap resamples for significance")
    randomization_trials: int = Field(10000, ge=0, description="approximate-randomisation trials; 0 = skip")
    seed: int = 12345
    alpha: float = Field(0.05, gt=0, lt=1)
    workers: int | None = Field(
        None, ge=1, description="processes that extract metric statistics; default: every core for runs of 2,000+ paragraphs"
    )
    resample: Literal["paragraph", "document"] = Field(
        "paragraph", description="bootstrap unit of CIs and paired tests; document: paragraphs of one article are correlated")


class GateThresholds(_Closed):
    """Margins and magnitude rules; unset entries keep the defaults (metric classes, `evalkit.compare`)."""

    max_drop: dict[str, float] = Field(default_factory=dict, description="metric → largest tolerated corpus drop")
    max_paragraph_drop: dict[str, float] = Field(default_factory=dict, description="metric → largest tolerated paragraph drop")
    max_paragraphs_worse: dict[str, int] = Field(
        default_factory=dict, description="metric → how many paragraphs may score lower than in the baseline")
    max_new_number_errors: int | None = Field(
        None, ge=0, description="paragraphs that may newly lose a number (max_paragraphs_worse for `numbers`)")

    @field_validator("max_drop", "max_paragraph_drop", "max_paragraphs_worse")
    @classmethod
    def _known_metric_names(cls, values: dict[str, float], info) -> dict[str, float]:
        # A misspelt metric here would silently leave the default margin in force.
        for name, value in values.items():
            if name not in METRICS:
                raise ValueError(METRICS.unknown_message(name))
            if info.field_name == "max_paragraphs_worse" and value < 0:
                raise ValueError(f"{name}: {value} is negative; a paragraph count is 0 or more")
        return values

    def paragraphs_worse(self) -> dict[str, int]:
        """max_paragraphs_worse with max_new_number_errors folded in (it is the `numbers` entry)."""
        extra = {} if self.max_new_number_errors is None else {"numbers": self.max_new_number_errors}
        return {**self.max_paragraphs_worse, **extra}


class CheckConfig(GateThresholds):
    """`evalkit check` settings: margins per metric, optionally per target language."""

    alpha: float = Field(0.05, gt=0, lt=1)
    significance: bool = Field(True, description="fail only when a paired test also says the drop is real")
    per_language: dict[str, GateThresholds] = Field(default_factory=dict)

    @field_validator("per_language")
    @classmethod
    def _known_languages(cls, values: dict[str, GateThresholds]) -> dict[str, GateThresholds]:
        for code in values:
            if code not in LANGUAGES:
                raise ValueError(f"unknown language code {code!r}; expected one of {', '.join(sorted(LANGUAGES))}")
        return values


class RayResources(_Closed):
    """What each actor of one system asks the cluster for, and how many actors the system gets."""

    actors: int | None = Field(None, ge=1, description="actors (each loads the model once); default: ray.actors")
    num_cpus_per_actor: float | None = Field(None, gt=0, description="CPUs per actor (torch threads follow); default: ray.num_cpus_per_actor")
    num_gpus_per_actor: float | None = Field(None, ge=0, description="GPUs per actor; default: ray.num_gpus_per_actor")


class RayConfig(_Closed):
    """`executor: ray` settings: where the cluster is and how a system's work is cut and placed."""

    address: str | None = Field(
        None, description="Ray cluster address (ray://host:10001, host:6379, auto); default: RAY_ADDRESS, "
                          "else a cluster running on this machine, else a local one started for the run")
    actors: int = Field(2, ge=1, description="actors per system; each loads the model once")
    num_cpus_per_actor: float = Field(1, gt=0, description="CPUs per actor; torch threads are set to match")
    num_gpus_per_actor: float = Field(0, ge=0, description="GPUs per actor (fractions share a GPU)")
    shard_size: int = Field(64, ge=1, description="paragraphs per work unit; each finished unit is cached at once")
    max_restarts: int = Field(3, ge=0, description="times a dead actor is restarted and its unit retried")
    systems: dict[str, RayResources] = Field(default_factory=dict, description="per-system overrides, by system name")

    def resources(self, system: str) -> tuple[int, float, float]:
        """(actors, num_cpus_per_actor, num_gpus_per_actor) for one system."""
        own = self.systems.get(system, RayResources())
        return (
            own.actors or self.actors,
            self.num_cpus_per_actor if own.num_cpus_per_actor is None else own.num_cpus_per_actor,
            self.num_gpus_per_actor if own.num_gpus_per_actor is None else own.num_gpus_per_actor,
        )


def _target_entry(value: Any) -> Any:
    """`targets: [th, ms]` and `targets: [{lang: th, file: 000.txt}]` are the same thing."""
    return {"lang": value} if isinstance(value, str) else value


class RunConfig(_Closed):
    name: str = Field(min_length=1, pattern=r"^[\w.+-]+$", description="used in the run id and folder name")
    corpus: Path | None = Field(None, description="folder of documents (one article a file); or give testset")
    testset: TestSetConfig | None = Field(None, description="a line-parallel test set read from local files, instead of corpus")
    pivot: DocumentConfig
    target: DocumentConfig | None = Field(None, description="one target language (or use targets)")
    targets: list[DocumentConfig] = Field(default_factory=list, description="target languages: [th, ms] or [{lang, file}]")
    systems: list[SystemConfig] = Field(min_length=1)
    metrics: list[MetricConfig] = Field(default_factory=lambda: [MetricConfig(name=m) for m in default_metric_names()], min_length=1)
    output_dir: Path = Path("results")
    statistics: StatisticsConfig = Field(default_factory=StatisticsConfig)
    check: CheckConfig = Field(default_factory=CheckConfig)
    cache: bool | Path = Field(
        True, description="translation cache: true = output_dir/translation-cache.sqlite, a path, or false"
    )
    executor: str = Field("in-process", description="where translation runs: in-process (default) or ray")
    ray: RayConfig = Field(default_factory=RayConfig, description="settings for executor: ray")
    source_path: Path | None = Field(None, exclude=True)  # the YAML file this came from

    @field_validator("targets", mode="before")
    @classmethod
    def _targets_shorthand(cls, values: Any) -> Any:
        return [_target_entry(v) for v in values] if isinstance(values, list) else values

    @field_validator("target", mode="before")
    @classmethod
    def _target_shorthand(cls, value: Any) -> Any:
        return _target_entry(value)

    @model_validator(mode="after")
    def _one_target_form(self) -> RunConfig:
        if self.target is not None and self.targets:
            raise _FieldErrors([("targets", "give either target (one language) or targets (a list), not both")])
        if self.target is not None:
            self.targets = [self.target]
        if not self.targets:
            raise _FieldErrors([("targets", "required field is missing: the target language(s), e.g. targets: [th, ms]")])
        langs = [t.lang for t in self.targets]
        repeated = sorted({lang for lang in langs if langs.count(lang) > 1})
        if repeated:
            raise _FieldErrors([("targets", f"a language is listed twice: {', '.join(repeated)}")])
        if self.pivot.lang in langs:
            raise _FieldErrors([("targets", f"{self.pivot.lang!r} is the pivot language; a target must differ")])
        if (self.corpus is None) == (self.testset is None):
            raise _FieldErrors([("corpus", "give either corpus (a folder of documents) or testset (a test set), not both")
                                if self.corpus is not None else
                                ("corpus", "required field is missing: a corpus folder, or a testset")])
        if self.testset is None and self.pivot.file is None:
            named = [i for i, t in enumerate(self.targets) if t.file is not None]
            if named:
                where = "target.file" if self.target is not None else f"targets[{named[0]}].file"
                raise _FieldErrors([(where, "a reference file needs its original: set pivot.file too "
                                            "(without it every pivot-language document is a pivot, and translations are found)")])
        if self.testset is not None:
            named = [f"{role}.file" for role, doc in (("pivot", self.pivot), *(("targets", t) for t in self.targets))
                     if doc.file is not None]
            if named:
                raise _FieldErrors([(named[0], "a test set is line-parallel: name languages only, not files")])
        return self

    @property
    def target_langs(self) -> list[str]:
        return [t.lang for t in self.targets]

    @property
    def single_target(self) -> DocumentConfig | None:
        """The target of a one-language config (what `evalkit align` and version-1 tools work with)."""
        return self.targets[0] if len(self.targets) == 1 else None

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, value: str) -> str:
        from evalkit.executors import EXECUTORS

        if value not in EXECUTORS:
            raise ValueError(EXECUTORS.unknown_message(value))
        return value

    @field_validator("metrics")
    @classmethod
    def _unique_metrics(cls, values: list[MetricConfig]) -> list[MetricConfig]:
        names = [m.name for m in values]
        if len(set(names)) != len(names):
            raise ValueError("a metric is listed twice")
        return values

    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.metrics]

    @model_validator(mode="after")
    def _unique_system_names(self) -> RunConfig:
        names = [s.name for s in self.systems]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"system names must be unique; repeated: {', '.join(repeated)}")
        baseline = self.statistics.baseline
        if baseline is not None and baseline not in names:
            raise ValueError(f"statistics.baseline {baseline!r} is not a system name ({', '.join(names)})")
        unknown = sorted(set(self.ray.systems) - set(names))
        if unknown:
            raise ValueError(f"ray.systems names {', '.join(unknown)}, not a system ({', '.join(names)})")
        return self

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> RunConfig:
        """Paths against the config file's folder, backend and metric options by their own models: all at build time.

        The folder comes from the validation context (`load_config` passes the
        file); a RunConfig built in Python without one resolves against the
        working directory.
        """
        source = (info.context or {}).get("config_file")
        base = Path(source).resolve().parent if source else Path.cwd()
        self.source_path = Path(source) if source else None
        errors: list[tuple[str, str]] = []
        self.output_dir = (base / self.output_dir.expanduser()).resolve()
        if not isinstance(self.cache, bool):
            self.cache = (base / self.cache.expanduser()).resolve()
        if self.testset is not None:
            self.testset = self.testset.resolved(base)
            errors += self.testset.problems()
        else:
            self.corpus = (base / self.corpus.expanduser()).resolve()
            if not self.corpus.is_dir():
                raise _FieldErrors([("corpus", f"folder {self.corpus} does not exist")])
            roles = [("pivot", self.pivot)] + [
                ("target" if self.target is not None else f"targets[{i}]", t) for i, t in enumerate(self.targets)]
            for role, doc in roles:
                if doc.file is not None:
                    doc.file = self.corpus / doc.file
                    if not doc.file.is_file():
                        errors.append((f"{role}.file", f"{doc.file} does not exist"))
        for index, system in enumerate(self.systems):
            backend = BACKENDS.get(system.backend)
            system.model = resolve_model(system.model, base)
            if backend.needs_model and system.model is None:
                errors.append((f"systems[{index}].model", f"backend {system.backend!r} needs a hub id or local folder"))
                continue
            parsed = _parse_options(base, system.options, backend.Options, f"systems[{index}].options.", backend.__name__)
            if isinstance(parsed, list):
                errors += parsed
            else:
                system.parsed_options = parsed
                errors += [(f"systems[{index}].options", problem)
                           for problem in backend.config_problems(parsed, self.target_langs)]
        for index, metric in enumerate(self.metrics):
            scorer_class = METRICS.get(metric.name)
            parsed = _parse_options(base, metric.options, scorer_class.Options, f"metrics[{index}].", metric.name)
            if isinstance(parsed, list):
                errors += parsed
                continue
            metric.parsed_options = parsed
            for lang in self.target_langs:
                try:  # construction loads no weights: a metric that cannot handle a language fails now, not after translating
                    scorer_class(lang, parsed, self.pivot.lang)
                except EvalkitError as exc:
                    errors.append((f"metrics[{index}] ({metric.name})", str(exc)))
                    break
        if errors:
            raise _FieldErrors(errors)
        return self

    @property
    def baseline_system(self) -> str:
        if self.statistics.baseline:
            return self.statistics.baseline
        return next((s.name for s in self.systems if s.backend == "copy"), self.systems[0].name)

    @property
    def cache_path(self) -> Path | None:
        """The translation cache file; by default beside the run folders, so it follows --output-dir."""
        if self.cache is False:
            return None
        return self.output_dir / "translation-cache.sqlite" if self.cache is True else self.cache

    def to_record(self) -> dict[str, Any]:
        """The resolved config as plain data, for run.json."""
        data = self.model_dump(mode="json")
        for system, parsed in zip(data["systems"], self.systems):
            system["options"] = parsed.parsed_options.model_dump(mode="json")
        # reports read metric names from "metrics"; options are kept beside them
        data["metrics"] = self.metric_names
        data["metric_options"] = {m.name: m.parsed_options.model_dump(mode="json") for m in self.metrics}
        return data


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error: dict[str, Any], model: type[BaseModel] | None = None) -> str:
    if error["type"] == "extra_forbidden" and model is not None:
        fields = [name for name, field in model.model_fields.items() if not field.exclude]  # evalkit's own fields stay out
        return f"unknown field; expected one of: {', '.join(fields)}"
    if error["type"] == "missing":
        return "required field is missing"
    return error["msg"].removeprefix("Value error, ")


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at `loc`, to list its allowed fields."""
    model: type[BaseModel] = RunConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        inner = getattr(field, "annotation", None) if field else None
        inner = getattr(inner, "__args__", (inner,))[0] if getattr(inner, "__origin__", None) is list else inner
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return None
        model = inner
    return model


def _config_error(path: Path, errors: list[tuple[str, str]]) -> ConfigError:
    first = "; ".join(f"{where}: {what}" for where, what in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return ConfigError(f"{path}: {first}{more}")


class _FieldErrors(Exception):
    """Problems found after the fields parsed (paths, options): not a ValueError, so pydantic passes it through
    with its field paths intact instead of wrapping it."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def load_config(path: str | Path) -> RunConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of fields (name, corpus or testset, pivot, targets, systems, ...)")
    try:
        return RunConfig.model_validate(raw, context={"config_file": path})
    except ValidationError as exc:
        raise _config_error(
            path, [(_field_path(e["loc"]), _describe(e, _model_at(e["loc"]))) for e in exc.errors()]
        ) from None
    except _FieldErrors as exc:
        raise _config_error(path, exc.errors) from None


def _parse_options(base: Path, raw: dict[str, Any], options_class, where: str, owner: str):
    """A backend's or metric's options, with path-typed options resolved against the config; or the errors."""
    fields = options_class.model_fields
    options = {k: resolve_option(path_role(fields[k]) if k in fields else None, v, base) for k, v in raw.items()}
    try:
        return options_class.model_validate(options)
    except ValidationError as exc:
        accepted = ", ".join(fields) or "no options"
        return [
            (f"{where}{_field_path(e['loc'])}",
             f"unknown option; {owner} accepts: {accepted}" if e["type"] == "extra_forbidden" else _describe(e))
            for e in exc.errors()
        ]
