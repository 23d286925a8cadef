"""One run over several target languages, many documents and standard test sets (issue 11), through the CLI."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import sacrebleu
import yaml

from conftest import CORPUS, PIVOT, ROOT, THAI, run_cli
from evalkit.config import load_config
from evalkit.errors import ConfigError
from evalkit.evalset_corpus import corpus_evaluation_set
from evalkit.results import load_run

FAST = {"bootstrap_resamples": 100, "paired_resamples": 100, "randomization_trials": 100}


def _write(tmp_path: Path, config: dict, name: str = "config.yaml") -> Path:
    config.setdefault("name", "t")
    config.setdefault("output_dir", str(tmp_path / "results"))
    config.setdefault("systems", [{"name": "copy", "backend": "copy"}])
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _only_folder(results: Path) -> Path:
    (folder,) = [p for p in results.iterdir() if p.is_dir()]
    return folder


# -- config forms --------------------------------------------------------------------------------


def test_targets_shorthand_and_long_form_are_the_same(tmp_path):
    short = load_config(_write(tmp_path, {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT},
                                          "targets": ["th", "ms"]}, "a.yaml"))
    long = load_config(_write(tmp_path, {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT},
                                         "targets": [{"lang": "th", "file": THAI}, {"lang": "ms"}]}, "b.yaml"))
    single = load_config(_write(tmp_path, {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT},
                                           "target": {"lang": "th"}}, "c.yaml"))
    assert short.target_langs == long.target_langs == ["th", "ms"]
    assert long.targets[0].file == CORPUS / THAI and long.targets[1].file is None
    assert single.target_langs == ["th"] and single.single_target is single.targets[0]
    bare = load_config(_write(tmp_path, {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT}, "target": "th"},
                              "d.yaml"))
    assert bare.target_langs == ["th"]


@pytest.mark.parametrize("change, expected", [
    ({"target": {"lang": "th"}}, "targets: give either target (one language) or targets (a list), not both"),
    ({"targets": ["th", "th"]}, "targets: a language is listed twice: th"),
    ({"targets": ["vi"]}, "'vi' is the pivot language"),
    ({"targets": ["xx"]}, "unknown language code 'xx'"),
    ({"testset": {"format": "ntrex128", "path": str(ROOT / "corpus/ntrex128-excerpt")}},
     "give either corpus (a folder of documents) or testset (a test set), not both"),
    ({"corpus": None}, "corpus: required field is missing: a corpus folder, or a testset"),
    ({"pivot": {"lang": "vi"}, "targets": [{"lang": "th", "file": THAI}]}, "targets[0].file: a reference file needs its original"),
])
def test_bad_target_forms_are_one_line_errors(tmp_path, change, expected):
    config = {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT}, "targets": ["th", "ms"], **change}
    config = {k: v for k, v in config.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, config))
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_a_test_set_names_languages_not_files(tmp_path):
    config = {"testset": {"format": "ntrex128", "path": str(ROOT / "corpus/ntrex128-excerpt")},
              "pivot": {"lang": "vi", "file": "x.txt"}, "targets": ["th"]}
    with pytest.raises(ConfigError, match="pivot.file: a test set is line-parallel"):
        load_config(_write(tmp_path, config))


def test_one_precomputed_file_cannot_serve_several_languages(tmp_path):
    (tmp_path / "out.txt").write_text("x\n", encoding="utf-8")
    config = {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT}, "targets": ["th", "ms"],
              "systems": [{"name": "pre", "backend": "precomputed", "options": {"path": "out.txt"}}]}
    with pytest.raises(ConfigError, match=r"put \{lang\} in options.path"):
        load_config(_write(tmp_path, config))


# -- many languages, one pivot: the shipped config ----------------------------------------------------


@pytest.fixture(scope="module")
def vn_jp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("vn-jp")
    proc = run_cli("run", ROOT / "configs/vn-jp-2023.yaml", "-o", out / "results", "--no-cache")
    return proc, out / "results"


def test_vn_jp_2023_scores_thai_and_malay_and_reports_indonesian_missing(vn_jp_run):
    proc, results = vn_jp_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((_only_folder(results) / "run.json").read_text(encoding="utf-8"))
    assert data["schema_version"] == 2
    languages = {e["lang"]: e for e in data["languages"]}
    assert (languages["th"]["status"], languages["ms"]["status"], languages["id"]["status"]) == ("ok", "ok", "missing")
    reason = languages["id"]["reason"]
    assert "no Indonesian (id) translation of 002_6d8f2e7b812a4376.txt found" in reason
    assert "003_80fd675a9a6137d2.txt is another article" in reason
    copies = {s["lang"]: s for s in data["systems"] if s["name"] == "copy"}
    assert set(copies) == {"th", "ms"} and all(s["status"] == "ok" for s in copies.values())
    nllb = [s for s in data["systems"] if s["name"] == "nllb-600m"]
    assert {s["lang"] for s in nllb} == {"th", "ms"} and {s["status"] for s in nllb} == {"unavailable"}
    documents = {(d["lang"], d["status"]) for d in data["documents"]}
    assert documents == {("th", "paired"), ("ms", "paired"), ("id", "missing")}
    targets = {d["lang"]: Path(d["target"]["path"]).name for d in data["documents"] if d["target"]}
    assert targets == {"th": THAI, "ms": "001_011d1486f715c8a5.txt"}
    for system in copies.values():  # each language scored against its own reference
        assert {p["lang"] for p in system["paragraphs"]} == {system["lang"]}
    unpaired = {Path(u["path"]).name: u["reason"] for u in data["unpaired"]}
    assert set(unpaired) == {"003_80fd675a9a6137d2.txt", "004_424d4b2d4314c3a5.txt"}
    assert "Indonesian" in proc.stdout and "missing" in proc.stdout.lower()


def test_each_language_is_scored_as_a_single_language_run_would_score_it(vn_jp_run, tmp_path):
    _, results = vn_jp_run
    many = load_run(_only_folder(results))
    config = {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT}, "target": {"lang": "ms"},
              "metrics": ["chrf", "chrf++", "bleu", "ter", "numbers"], "cache": False}
    assert run_cli("run", _write(tmp_path, config), "-q").returncode == 0
    one = load_run(_only_folder(tmp_path / "results"))
    a, b = many.system("copy", "ms"), one.system("copy")
    assert {m: s.score for m, s in a.corpus_scores.items()} == {m: s.score for m, s in b.corpus_scores.items()}
    assert [p.reference for p in a.paragraphs] == [p.reference for p in b.paragraphs]


def test_strict_fails_a_run_with_a_missing_language(tmp_path):
    config = {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT}, "targets": ["th", "id"],
              "metrics": ["chrf"], "statistics": FAST, "cache": False}
    path = _write(tmp_path, config)
    assert run_cli("run", path, "-q").returncode == 0
    strict = run_cli("run", path, "-q", "--strict")
    assert strict.returncode == 1 and "1 target language(s) not scored: id" in strict.stderr


def test_a_run_where_no_language_has_a_translation_is_an_error(tmp_path):
    config = {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT}, "targets": ["id"], "metrics": ["chrf"]}
    proc = run_cli("run", _write(tmp_path, config))
    assert proc.returncode == 2 and "nothing was scored" in proc.stderr and "Traceback" not in proc.stderr


# -- a corpus folder of scraped articles ---------------------------------------------------------------


def test_scrambled_corpus_folder_pairs_every_article_with_its_translations():
    config = load_config(ROOT / "configs/scrape-demo.yaml")
    truth = {r["file"]: (r["article"], r["lang"]) for r in
             csv.DictReader((ROOT / "corpus/scrape-demo/TRUTH.tsv").open(encoding="utf-8"), delimiter="\t")}
    found = corpus_evaluation_set(config)
    paired = [(language.lang, d) for language in found.languages for d in language.documents if d.status == "paired"]
    for lang, d in paired:
        assert truth[d.document][0] == truth[Path(d.target.path).name][0] and truth[Path(d.target.path).name][1] == lang
    expected = {(lang, truth[f][0]) for f, (article, l2) in truth.items() if l2 in ("th", "ms", "id")
                for lang in [l2] if (article, "vi") in {v for v in truth.values()}}
    assert {(lang, truth[d.document][0]) for lang, d in paired} == expected
    missing = {(language.lang, truth[d.document][0]) for language in found.languages for d in language.documents
               if d.status == "missing"}
    assert missing == {("th", "upi.176251"), ("ms", "upi.176251"), ("id", "upi.176251"), ("id", "bbc.381694")}
    assert [truth[Path(u["path"]).name] for u in found.unpaired] == [("euronews-en.153826", "en")]
    # segments are grouped by document, in document order: what document resampling and per-document scores need
    for language in found.scored:
        order = [s.document for s in language.segments]
        assert order == sorted(order, key=[d.document for d in language.documents].index)


# -- a standard test set ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ntrex_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ntrex")
    config = yaml.safe_load((ROOT / "configs/ntrex128-excerpt.yaml").read_text(encoding="utf-8"))
    config["testset"]["path"] = str(ROOT / "corpus/ntrex128-excerpt")
    config["systems"] = [{"name": "copy", "backend": "copy"},
                         {"name": "ref-ish", "backend": "precomputed",
                          "options": {"path": str(out / "ref-ish.{lang}.jsonl")}}]
    config["statistics"] = {**FAST, "resample": "document"}
    config["output_dir"] = str(out / "results")
    config["cache"] = False
    # a system that returns the reference for every third row and the source elsewhere, per language
    source = (ROOT / "corpus/ntrex128-excerpt/NTREX-128/newstest2019-ref.vie.txt").read_text(encoding="utf-8").splitlines()
    for lang, code in (("th", "tha"), ("ms", "msa"), ("id", "ind")):
        refs = (ROOT / f"corpus/ntrex128-excerpt/NTREX-128/newstest2019-ref.{code}.txt").read_text(encoding="utf-8").splitlines()
        with (out / f"ref-ish.{lang}.jsonl").open("w", encoding="utf-8") as f:
            for row, (s, r) in enumerate(zip(source, refs), start=1):
                f.write(json.dumps({"line": row, "translation": r if row % 3 == 0 else s}, ensure_ascii=False) + "\n")
    path = _write(out, config)
    proc = run_cli("run", path, "--documents")
    return proc, load_run(_only_folder(out / "results")), out


def test_ntrex_excerpt_runs_three_languages_with_per_document_scores(ntrex_run):
    proc, run, _ = ntrex_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert run.source["kind"] == "testset" and run.source["name"] == "NTREX-128"
    assert run.scored_langs == ["th", "ms", "id"]
    ids = (ROOT / "corpus/ntrex128-excerpt/DOCUMENT_IDS.tsv").read_text(encoding="utf-8").split()
    assert [d.document for d in run.documents_in("th")] == list(dict.fromkeys(ids))
    for system in run.systems:
        assert system.status == "ok" and len(system.paragraphs) == 197
        assert [p.document for p in system.paragraphs] == ids
    # per-document scores are each document's own corpus score, as sacrebleu computes it
    system = run.system("ref-ish", "ms")
    for entry in run.documents_in("ms"):
        mine = [p for p in system.paragraphs if p.document == entry.document]
        expected = sacrebleu.corpus_chrf([p.candidate for p in mine], [[p.reference for p in mine]]).score
        assert entry.scores["ref-ish"]["chrf"].score == pytest.approx(expected, abs=1e-9)
        test = entry.significance["ref-ish"]["chrf"]  # against the baseline (copy) on this document alone
        assert test["delta"] == pytest.approx(entry.scores["ref-ish"]["chrf"].score - entry.scores["copy"]["chrf"].score)
        assert 0 <= test["p_bootstrap"] <= 1 and "copy" not in entry.significance
    assert "abcnews.306815" in proc.stdout  # --documents prints the per-document detail


def test_document_resampling_is_recorded_and_differs_from_paragraph_resampling(ntrex_run):
    from evalkit.scorers import METRICS
    from evalkit.scorers.stats import bootstrap_ci

    _, run, _ = ntrex_run
    assert run.resample == "document"
    system = run.system("ref-ish", "th")
    assert system.significance["resample"] == "document"
    scorer = METRICS.get("chrf")("th")
    scorer.load()
    stats = scorer.statistics([p.candidate for p in system.paragraphs], [p.reference for p in system.paragraphs])
    by_paragraph = bootstrap_ci(scorer, stats, n_resamples=100, seed=12345)
    starts = [0] + [i for i in range(1, len(system.paragraphs))
                    if system.paragraphs[i].document != system.paragraphs[i - 1].document]
    by_document = bootstrap_ci(scorer, np.add.reduceat(stats, starts, axis=0), n_resamples=100, seed=12345)
    score = system.corpus_scores["chrf"]
    assert (score.ci_low, score.ci_high) == pytest.approx((by_document.low, by_document.high))
    assert (by_document.low, by_document.high) != pytest.approx((by_paragraph.low, by_paragraph.high))


def test_paragraphs_csv_has_language_and_document_columns(ntrex_run):
    _, run, out = ntrex_run
    rows = list(csv.DictReader((_only_folder(out / "results") / "paragraphs.csv").open(encoding="utf-8")))
    assert {"lang", "document"} <= set(rows[0])
    assert {r["lang"] for r in rows} == {"th", "ms", "id"}
    assert len(rows) == 2 * 3 * 197


def test_a_language_the_set_lacks_is_reported_and_the_others_run(tmp_path):
    config = {"testset": {"format": "ntrex128", "path": str(ROOT / "corpus/ntrex128-excerpt")},
              "pivot": {"lang": "vi"}, "targets": ["th", "tl"], "metrics": ["chrf"], "statistics": FAST, "cache": False}
    proc = run_cli("run", _write(tmp_path, config))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = load_run(_only_folder(tmp_path / "results"))
    (missing,) = [e for e in run.languages if e.status == "missing"]
    assert missing.lang == "tl" and "newstest2019-ref.tgl.txt" in missing.reason


# -- old results still open ---------------------------------------------------------------------------------

V1 = ROOT / "tests/data/runs/v1-vi-th.run.json"


def test_a_version_1_run_json_is_read_into_the_same_shape():
    run = load_run(V1)
    assert run.schema_version == 1 and run.langs == ["th"]
    assert [(s.name, s.lang) for s in run.systems] == [("copy", "th"), ("pre", "th")]
    assert run.target.lang == "th" and run.alignment.is_translation
    assert {p.document for p in run.system("pre").paragraphs} == {PIVOT}


def test_report_rerenders_a_version_1_run(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    shutil.copy(V1, folder / "run.json")
    proc = run_cli("report", folder, "--show")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {p.name for p in folder.iterdir()} == {"run.json", "paragraphs.csv", "summary.md", "report.html"}
    assert "pre" in (folder / "summary.md").read_text(encoding="utf-8")


def test_compare_and_check_accept_a_version_1_baseline(tmp_path):
    pre = tmp_path / "pre.txt"
    pre.write_text((ROOT / "tests/data/runs/v1-vi-th.pre.txt").read_text(encoding="utf-8"), encoding="utf-8")
    config = {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT}, "target": {"lang": "th", "file": THAI},
              "systems": [{"name": "copy", "backend": "copy"},
                          {"name": "pre", "backend": "precomputed", "options": {"path": str(pre)}}],
              "metrics": ["chrf", "bleu", "numbers"], "cache": False,
              "statistics": {"bootstrap_resamples": 100, "randomization_trials": 200}}
    path = _write(tmp_path, config)
    checked = run_cli("check", path, "--baseline", V1, "-q")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    new = _only_folder(tmp_path / "results")
    compared = run_cli("compare", V1, new, "-f", "json")
    assert compared.returncode == 0, compared.stdout + compared.stderr
    deltas = {c["candidate_label"].split(":")[-1]: c["metrics"] for c in json.loads(compared.stdout)}
    assert set(deltas) == {"copy", "pre"}
    assert all(abs(m["delta"]) < 1e-9 for metrics in deltas.values() for m in metrics)


# -- the gate, language by language ------------------------------------------------------------------------


def test_check_gates_each_language_with_its_own_thresholds(tmp_path):
    from evalkit.pairing import pair_documents

    base = {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT}, "targets": ["th", "ms"],
            "systems": [{"name": "copy", "backend": "copy"},
                        {"name": "mt", "backend": "precomputed", "options": {"path": str(tmp_path / "mt.{lang}.txt")}}],
            "metrics": ["chrf"], "cache": False, "statistics": FAST}
    config = load_config(_write(tmp_path, dict(base)))
    for target in config.targets:  # a "system" that returns the reference wherever the paragraph aligns
        paired = pair_documents(config, target=target)
        lines = list(paired.pivot.texts)
        for bead in paired.alignment.pairs:
            lines[bead.source[0]] = " ".join(paired.target.paragraphs[j].text for j in bead.target)
        (tmp_path / f"mt.{target.lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run_cli("run", tmp_path / "config.yaml", "-q").returncode == 0
    baseline = _only_folder(tmp_path / "results")
    pivot_lines = "\n".join(paired.pivot.texts) + "\n"
    (tmp_path / "mt.ms.txt").write_text(pivot_lines, encoding="utf-8")  # Malay regresses to a copy of the pivot

    failed = run_cli("check", tmp_path / "config.yaml", "--baseline", baseline, "-o", tmp_path / "after", "-f", "json")
    assert failed.returncode == 1
    outcome = json.loads(failed.stdout)
    assert any(f.startswith("mt [ms] chrf") for f in outcome["failures"])
    assert not any(f.startswith("mt [th]") for f in outcome["failures"])
    decided = {(d["system"], d["lang"]): d for d in outcome["decisions"]}
    assert decided[("mt [th]", "th")]["failed"] is False and decided[("mt [ms]", "ms")]["failed"] is True

    lenient = {**base, "check": {"per_language": {"ms": {"max_drop": {"chrf": 100}, "max_paragraph_drop": {"chrf": 100}}}}}
    passed = run_cli("check", _write(tmp_path, lenient, "lenient.yaml"), "--baseline", baseline,
                     "-o", tmp_path / "after2", "-f", "json")
    assert passed.returncode == 0, passed.stdout
    margins = {d["lang"]: d["margin"] for d in json.loads(passed.stdout)["decisions"] if d["system"].startswith("mt")}
    assert margins == {"th": 3.0, "ms": 100}


def test_a_language_the_model_lacks_fails_that_language_only(tmp_path, tiny_marian_multi):
    """An opus-mt style model with >>tha<< and >>zsm<< only: Thai and Malay run, Indonesian fails with the reason."""
    config = {"testset": {"format": "ntrex128", "path": str(ROOT / "corpus/ntrex128-excerpt")},
              "pivot": {"lang": "vi"}, "targets": ["th", "ms", "id"], "metrics": ["chrf"], "statistics": FAST,
              "systems": [{"name": "copy", "backend": "copy"},
                          {"name": "tiny", "backend": "seq2seq", "model": str(tiny_marian_multi),
                           "options": {"max_new_tokens": 8, "batch_size": 64}}]}
    proc = run_cli("run", _write(tmp_path, config), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = load_run(_only_folder(tmp_path / "results"))
    status = {s.lang: (s.status, s.reason) for s in run.systems if s.name == "tiny"}
    assert status["th"] == ("ok", None) and status["ms"] == ("ok", None)
    assert status["id"][0] == "failed" and "does not know the target language id (Indonesian)" in status["id"][1]
    assert "tiny [id]: failed" in proc.stderr
    assert run.system("tiny", "th").seconds["load"] > 0 and run.system("tiny", "ms").seconds["load"] == 0  # loaded once


def test_align_shows_the_pairing_of_a_corpus_folder_and_of_a_test_set():
    corpus = run_cli("align", ROOT / "configs/scrape-demo.yaml", "-f", "json")
    assert corpus.returncode == 0, corpus.stderr
    found = json.loads(corpus.stdout)
    assert [(e["lang"], e["documents"]) for e in found["languages"]] == [("th", 5), ("ms", 5), ("id", 4)]
    assert sum(d["status"] == "missing" for d in found["documents"]) == 4 and len(found["unpaired"]) == 1
    table = run_cli("align", ROOT / "configs/scrape-demo.yaml")
    assert table.returncode == 0 and "1 corpus document(s) in no pair" in table.stdout
    testset = json.loads(run_cli("align", ROOT / "configs/ntrex128-excerpt.yaml", "-f", "json").stdout)
    assert testset["source"]["name"] == "NTREX-128" and {e["paragraphs"] for e in testset["languages"]} == {197}


def test_precomputed_candidates_belong_to_positions_not_texts(tmp_path):
    """A line repeated in two documents keeps its own candidate; a hypothesis file has one line per row, empty rows too."""
    rows = [("A", "Ông Nam nói hôm thứ Hai.", "Pak Nam berkata pada hari Isnin."),
            ("B", "Ảnh: Reuters", "Gambar: Reuters"),
            ("B", "Giá vàng tăng 2%.", "Harga emas naik 2%."),
            ("A", "Ảnh: Reuters", "Foto oleh Reuters"),
            ("A", "", "Baris kosong di sumber."),
            ("B", "Hết.", "Tamat.")]
    (tmp_path / "set.tsv").write_text("doc\tsource\treference\n" + "".join(f"{d}\t{s}\t{r}\n" for d, s, r in rows),
                                      encoding="utf-8")
    (tmp_path / "oracle.txt").write_text("".join(f"{r}\n" for _, _, r in rows), encoding="utf-8")  # one line per row
    (tmp_path / "oracle.jsonl").write_text("".join(
        json.dumps({"document": "set.tsv", "line": i, "translation": r}, ensure_ascii=False) + "\n"
        for i, (_, s, r) in enumerate(rows, start=1) if s), encoding="utf-8")
    config = {"testset": {"format": "tsv", "path": str(tmp_path / "set.tsv")}, "pivot": {"lang": "vi"},
              "targets": ["ms"], "metrics": ["chrf"], "statistics": FAST,
              "systems": [{"name": "copy", "backend": "copy"},
                          {"name": "lines", "backend": "precomputed", "options": {"path": str(tmp_path / "oracle.txt")}},
                          {"name": "jsonl", "backend": "precomputed", "options": {"path": str(tmp_path / "oracle.jsonl")}}]}
    proc = run_cli("run", _write(tmp_path, config), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = load_run(_only_folder(tmp_path / "results"))
    for name in ("lines", "jsonl"):
        system = run.system(name)
        assert system.status == "ok", system.reason
        assert [p.candidate for p in system.paragraphs] == [p.reference for p in system.paragraphs]
        assert system.corpus_scores["chrf"].score == 100
    skipped = [s for d in run.documents for s in d.skipped]
    assert skipped == [{"line": 5, "reason": "empty pivot row"}]


def test_document_resampling_of_a_single_document_falls_back_to_paragraphs(tmp_path):
    config = {"corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT}, "target": {"lang": "th", "file": THAI},
              "metrics": ["chrf"], "cache": False, "statistics": {**FAST, "resample": "document"}}
    assert run_cli("run", _write(tmp_path, config), "-q").returncode == 0
    run = load_run(_only_folder(tmp_path / "results"))
    assert run.languages[0].resample == "paragraph"
    score = run.system("copy").corpus_scores["chrf"]
    assert score.ci_high > score.ci_low  # an interval, not the single document repeated
    assert "paragraph: every language has a single document" in run.resampled_by()


def test_check_fails_when_a_language_scored_in_the_baseline_is_gone(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    config = {"corpus": str(corpus), "pivot": {"lang": "vi", "file": PIVOT}, "targets": ["th", "ms"],
              "metrics": ["chrf"], "cache": False, "statistics": FAST}
    path = _write(tmp_path, config)
    assert run_cli("run", path, "-q").returncode == 0
    baseline = _only_folder(tmp_path / "results")
    (corpus / "001_011d1486f715c8a5.txt").unlink()  # the Malay translation is gone
    proc = run_cli("check", path, "--baseline", baseline, "-o", tmp_path / "after", "-f", "json")
    assert proc.returncode == 1
    failures = json.loads(proc.stdout)["failures"]
    assert any(f.startswith("copy [ms]: scored in the baseline, not scored now (no Malay (ms) translation") for f in failures)


def test_check_refuses_a_baseline_of_another_kind_before_translating(tmp_path):
    config = {"testset": {"format": "ntrex128", "path": str(ROOT / "corpus/ntrex128-excerpt")}, "pivot": {"lang": "vi"},
              "targets": ["th"], "metrics": ["chrf"]}
    proc = run_cli("check", _write(tmp_path, config), "--baseline", V1)
    assert proc.returncode == 2 and "scored a corpus, but the config names a testset" in proc.stderr
    assert "translating" not in proc.stdout + proc.stderr
