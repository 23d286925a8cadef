from pathlib import Path

import pytest

from conftest import ROOT, THAI, make_config
from evalkit.config import load_config
from evalkit.errors import ConfigError


def test_shipped_configs_load_with_paths_relative_to_the_config():
    for name in ("vi-th", "vi-ms", "vi-id"):
        config = load_config(ROOT / "configs" / f"{name}.yaml")
        assert config.corpus == ROOT / "corpus" / "vn-jp-2023"
        assert config.pivot.file.is_file() and config.target.file.is_file()
        assert config.output_dir == ROOT / "results"
        assert [s.backend for s in config.systems][:2] == ["copy", "seq2seq"]
        assert config.systems[1].model == "facebook/nllb-200-distilled-600M"  # a hub id, not a path
        assert config.systems[1].parsed_options.batch_size == 16


def test_local_model_folder_is_resolved_relative_to_the_config(tmp_path):
    (tmp_path / "models" / "m").mkdir(parents=True)
    config = load_config(make_config(tmp_path, systems=[{"name": "m", "backend": "seq2seq", "model": "models/m"}]))
    assert config.systems[0].model == tmp_path / "models" / "m"


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


BASE = f"""name: t
corpus: {ROOT / 'corpus' / 'vn-jp-2023'}
pivot: {{lang: vi, file: 002_6d8f2e7b812a4376.txt}}
target: {{lang: th, file: {THAI}}}
"""


@pytest.mark.parametrize(
    "body, expected",
    [
        ("systems: [{name: a, backend: copy, colour: red}]", "systems[0].colour: unknown field; expected one of: name, backend, model, options"),
        ("systems: [{name: a, backend: sec2seq, model: x/y}]", "systems[0].backend: unknown backend 'sec2seq'; did you mean 'seq2seq'?"),
        ("systems: [{name: a, backend: seq2seq, model: x/y, options: {beams: 4}}]", "systems[0].options.beams: unknown option; Seq2SeqTranslator accepts: batch_size, max_batch_tokens, num_beams"),
        ("systems: [{name: a, backend: seq2seq, model: x/y, options: {batch_size: 0}}]", "systems[0].options.batch_size: Input should be greater than or equal to 1"),
        ("systems: [{name: a, backend: seq2seq}]", "systems[0].model: backend 'seq2seq' needs a hub id or local folder"),
        ("systems: [{name: a, backend: copy}]\nmetrics: [chrf, blue]", "metrics[1].name: unknown metric 'blue'; did you mean 'bleu'?"),
        ("systems: [{name: a, backend: copy}, {name: a, backend: copy}]", "system names must be unique; repeated: a"),
        ("systems: []", "systems: List should have at least 1 item"),
    ],
)
def test_mistakes_name_the_file_and_field(tmp_path, body, expected):
    assert expected in _error(tmp_path, BASE + body)


def test_other_config_mistakes(tmp_path):
    assert "config file not found" in str(pytest.raises(ConfigError, load_config, tmp_path / "nope.yaml").value)
    assert _error(tmp_path, "name: x\n  corpus: [\n").endswith("bad.yaml:2: mapping values are not allowed here")
    assert "expected a mapping" in _error(tmp_path, "- just\n- a list\n")
    assert "unknown language code 'thai'" in _error(tmp_path, BASE.replace("lang: th", "lang: thai") + "systems: [{name: a, backend: copy}]")
    assert "target.file:" in _error(tmp_path, BASE.replace(THAI, "missing.txt") + "systems: [{name: a, backend: copy}]")
    assert "corpus: folder" in _error(tmp_path, BASE.replace("vn-jp-2023", "nope") + "systems: [{name: a, backend: copy}]")
    assert "pivot: required field is missing" in _error(tmp_path, "name: t\ncorpus: .\ntarget: {lang: th}\nsystems: [{name: a, backend: copy}]")


def test_metric_entries_take_options_and_reject_unknown_ones(tmp_path):
    config = load_config(make_config(tmp_path, metrics=["chrf", {"name": "bleu"}]))
    assert config.metric_names == ["chrf", "bleu"]
    assert config.to_record()["metrics"] == ["chrf", "bleu"]
    message = _error(tmp_path, BASE + "systems: [{name: a, backend: copy}]\nmetrics: [chrf, {name: bleu, smoothing: none}]")
    assert "metrics[1].smoothing: unknown option; bleu accepts: no options" in message


def test_check_thresholds_name_real_metrics_and_languages(tmp_path):
    body = "systems: [{name: a, backend: copy}]\n"
    assert "check.max_drop: unknown metric 'blue'; did you mean 'bleu'?" in _error(tmp_path, BASE + body + "check: {max_drop: {blue: 1}}")
    assert "check.per_language: unknown language code 'xx'" in _error(
        tmp_path, BASE + body + "check: {per_language: {xx: {max_drop: {chrf: 1}}}}")
    assert "unknown metric 'chrF'" in _error(tmp_path, BASE + body + "check: {per_language: {th: {max_paragraph_drop: {chrF: 1}}}}")
