"""Standard test-set readers on the shipped NTREX-128 excerpt and on small files written in each layout.

FLORES-200 / FLORES+ / sacrebleu files here are invented sentences in the real
layouts (the real sets are held-out evaluation data and are not copied).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from evalkit.errors import ConfigError, CorpusError
from evalkit.languages import LANGUAGES, find_language, from_code
from evalkit.testsets import TESTSETS, TestSetConfig, TestSetError, read_testset
from evalkit.testsets.base import read_rows, runs_to_documents

ROOT = Path(__file__).resolve().parent.parent
NTREX = ROOT / "corpus" / "ntrex128-excerpt"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def config(format: str, path: Path | None = None, **kwargs) -> TestSetConfig:
    return TestSetConfig(format=format, path=path, **kwargs)


# --- language table ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "codes, iso1",
    [
        (["vi", "vie", "vie_Latn", "VIE_LATN", "vi-VN", "vi_VN"], "vi"),
        (["ms", "zsm", "msa", "may", "zsm_Latn", "zsm-Latn"], "ms"),
        (["th", "tha", "tha_Thai", "th_TH"], "th"),
        (["id", "ind", "ind_Latn"], "id"),
        (["en", "eng", "eng_Latn", "eng-US", "eng-GB"], "en"),
        (["zh", "zho", "zho_Hans", "cmn_Hans", "zho-CN"], "zh"),
        (["tl", "tgl", "fil", "tgl_Latn"], "tl"),
    ],
)
def test_every_spelling_of_a_language_finds_it(codes, iso1):
    for code in codes:
        assert from_code(code).iso1 == iso1, code


def test_round_trips_through_the_table():
    for lang in LANGUAGES.values():
        assert from_code(lang.iso1) is lang
        assert from_code(lang.iso3) is lang
        assert from_code(lang.flores) is lang
        assert from_code(from_code(lang.flores).iso3).iso1 == lang.iso1
    vi = from_code("vie_Latn")
    assert (vi.iso1, vi.iso3, vi.flores) == ("vi", "vie", "vie_Latn")
    ms = from_code("msa")
    assert (ms.iso1, ms.iso3, ms.flores) == ("ms", "zsm", "zsm_Latn")
    assert ms.iso3_codes == ("zsm", "msa", "may")


def test_existing_fields_unchanged_for_backends():
    ms = LANGUAGES["ms"]
    assert (ms.iso3, ms.flores, ms.mbart, ms.spaces) == ("zsm", "zsm_Latn", None, True)
    assert LANGUAGES["th"].mbart == "th_TH" and not LANGUAGES["th"].spaces


def test_unknown_codes_and_other_scripts_are_not_guessed():
    assert find_language("xx") is None
    assert find_language("zho_Hant") is None  # Traditional is not the table's Simplified zh
    assert find_language("zho-TW") is None
    with pytest.raises(ConfigError, match="unknown language code 'qqq'.*vi \\(Vietnamese\\)"):
        from_code("qqq")


# --- NTREX-128 on the shipped excerpt ----------------------------------------------------------------------------


def test_ntrex_excerpt_vi_to_th_ms_id():
    testset = read_testset(config("ntrex128", NTREX), "vi", ["th", "ms", "id"])
    assert testset.name == "NTREX-128"
    assert len(testset.sources) == 197
    assert len(testset.document_ids) == 14 and testset.has_document_ids
    assert testset.documents[0] == "abcnews.306815" and testset.documents[-1] == "cnn.304489"
    assert set(testset.references) == {"th", "ms", "id"} and testset.missing == {}
    assert testset.source_path.name == "newstest2019-ref.vie.txt"
    assert testset.reference_paths["ms"].name == "newstest2019-ref.msa.txt"  # NTREX's macrolanguage code
    first_line = (NTREX / "NTREX-128" / "newstest2019-ref.vie.txt").read_bytes().split(b"\r\n")[0].decode()
    assert testset.sources[0] == first_line.strip()
    assert not any("\r" in row for row in testset.sources + testset.references["th"])
    for lang in ("th", "ms", "id"):
        assert len(testset.references[lang]) == 197
        last = testset.reference_paths[lang].read_bytes().decode().split("\r\n")
        assert last[-1] == "" and testset.references[lang][-1] == last[-2].strip()


def test_ntrex_english_is_the_source_file_and_the_set_folder_itself_is_accepted():
    testset = read_testset(config("ntrex128", NTREX / "NTREX-128"), "en", ["vi"])
    assert testset.source_path.name == "newstest2019-src.eng.txt"
    assert testset.has_document_ids  # DOCUMENT_IDS.tsv next to the NTREX-128 folder
    assert len(testset.references["vi"]) == 197


def test_ntrex_missing_target_is_reported_not_raised():
    testset = read_testset(config("ntrex128", NTREX), "vi", ["th", "lo"])
    assert list(testset.references) == ["th"]
    assert testset.missing["lo"].startswith("NTREX-128 has no newstest2019-ref.lao.txt in ")


def test_ntrex_missing_source_language_is_an_error():
    with pytest.raises(TestSetError, match="no file for the pivot language ja .*newstest2019-ref.jpn.txt"):
        read_testset(config("ntrex128", NTREX), "ja", ["th"])


def _small_ntrex(tmp_path: Path, ids: str = "d1\nd1\nd2\n") -> Path:
    write(tmp_path / "NTREX-128" / "newstest2019-src.eng.txt", "One.\r\nTwo.\r\nThree.\r\n")
    write(tmp_path / "NTREX-128" / "newstest2019-ref.vie.txt", "Một.\r\nHai.\r\nBa.\r\n")
    write(tmp_path / "DOCUMENT_IDS.tsv", ids)
    return tmp_path


def test_ntrex_row_count_mismatch_names_both_files(tmp_path):
    root = _small_ntrex(tmp_path)
    write(root / "NTREX-128" / "newstest2019-ref.tha.txt", "หนึ่ง\r\nสอง\r\n")
    with pytest.raises(TestSetError, match=r"newstest2019-ref\.tha\.txt: 2 rows, but .*newstest2019-ref\.vie\.txt has 3"):
        read_testset(config("ntrex128", root), "vi", ["th"])
    with pytest.raises(TestSetError, match=r"DOCUMENT_IDS\.tsv: 2 rows, but .* has 3"):
        read_testset(config("ntrex128", _small_ntrex(tmp_path, "d1\nd2\n")), "vi", [])


def test_ntrex_without_document_ids_reads_rows_under_the_set_name(tmp_path):
    root = _small_ntrex(tmp_path)
    (root / "DOCUMENT_IDS.tsv").unlink()
    testset = read_testset(config("ntrex128", root), "en", ["vi"])
    assert not testset.has_document_ids and testset.documents == ("NTREX-128",) * 3


def test_ntrex_undecodable_bytes_name_file_and_line(tmp_path):
    root = _small_ntrex(tmp_path)
    write(root / "NTREX-128" / "newstest2019-ref.tha.txt", b"ok\r\nfine\r\nbad \xff byte\r\n")
    with pytest.raises(TestSetError, match=r"newstest2019-ref\.tha\.txt:3: bytes b'\\xff' are not UTF-8"):
        read_testset(config("ntrex128", root), "vi", ["th"])


# --- the shared line rules -----------------------------------------------------------------------------------------


def test_rows_keep_empty_lines_strip_whitespace_and_tolerate_bom_and_cr(tmp_path):
    path = write(tmp_path / "x.txt", "\ufeff  a \r\n\r\nb\rc\u2028d\n")
    assert read_rows(path) == ["a", "", "b", "c\u2028d"]
    assert read_rows(write(tmp_path / "e.txt", "")) == []
    assert read_rows(write(tmp_path / "n.txt", "last line without newline")) == ["last line without newline"]


def test_runs_of_equal_keys_become_documents():
    assert runs_to_documents(["u1", "u1", "u2", "u1"]) == ("doc1", "doc1", "doc2", "doc3")
    assert runs_to_documents([]) == ()


# --- TSV ----------------------------------------------------------------------------------------------------------


def test_tsv_single_reference_and_documents(tmp_path):
    path = write(tmp_path / "set.tsv", 'doc\tsource\treference\na\t "Xin chào" \tสวัสดี\na\tTạm biệt\t\nb\tCảm ơn\tขอบคุณ\n')
    testset = read_testset(config("tsv", path), "vi", ["th"])
    assert testset.name == "set.tsv" and testset.source_path == path
    assert testset.sources == ('"Xin chào"', "Tạm biệt", "Cảm ơn")
    assert testset.references["th"] == ("สวัสดี", "", "ขอบคุณ")  # the empty row stays, aligned
    assert testset.documents == ("a", "a", "b") and testset.has_document_ids


def test_tsv_columns_per_language_in_any_spelling(tmp_path):
    path = write(tmp_path / "set.tsv", "source\treference.th\tzsm_Latn\nMột\tหนึ่ง\tSatu\n")
    testset = read_testset(config("tsv", path), "vi", ["th", "ms", "id"])
    assert testset.references == {"th": ("หนึ่ง",), "ms": ("Satu",)}
    assert testset.missing["id"] == f"set.tsv has no column reference.id or id in {tmp_path}"
    assert testset.documents == ("set.tsv",) and not testset.has_document_ids


@pytest.mark.parametrize(
    "text, message",
    [
        ("reference\nx\n", r"set\.tsv:1: no `source` column"),
        ("source\treference\tnotes\nx\ty\tz\n", r"set\.tsv:1: unknown column 'notes'"),
        ("source\treference\na\tb\nc\n", r"set\.tsv:3: 1 tab-separated fields, expected 2"),
        ("source\treference\na\tb\n\n", r"set\.tsv:3: blank line; 1 tab-separated fields"),
        ("source\tth\ttha\na\tb\tc\n", r"set\.tsv:1: columns 'th' and 'tha' are both Thai"),
        ("doc\tsource\tth\n\ta\tb\n", r"set\.tsv:2: field doc is empty"),
        ("", r"set\.tsv:1: empty file"),
        (b"source\treference\na\tb\nc\t\xc3(\n", r"set\.tsv:3: bytes .* are not UTF-8"),
    ],
)
def test_tsv_errors_name_file_and_line(tmp_path, text, message):
    path = write(tmp_path / "set.tsv", text)
    with pytest.raises(TestSetError, match=message):
        read_testset(config("tsv", path), "vi", ["th"])


def test_tsv_unlabelled_reference_with_several_targets_is_an_error(tmp_path):
    path = write(tmp_path / "set.tsv", "source\treference\na\tb\n")
    with pytest.raises(TestSetError, match=r"set\.tsv:1: one unlabelled reference for 2 target languages"):
        read_testset(config("tsv", path), "vi", ["th", "ms"])


# --- JSONL --------------------------------------------------------------------------------------------------------


def test_jsonl_single_and_multiple_references(tmp_path):
    one = write(tmp_path / "one.jsonl", '{"source": "Một", "reference": "หนึ่ง", "doc": 7}\n{"source": "Hai", "reference": "สอง", "doc": 7}\n')
    testset = read_testset(config("jsonl", one), "vi", ["th"])
    assert testset.sources == ("Một", "Hai") and testset.references["th"] == ("หนึ่ง", "สอง")
    assert testset.documents == ("7", "7") and testset.has_document_ids
    many = write(tmp_path / "many.jsonl", '{"source": "Một", "references": {"tha": "หนึ่ง", "ms": "Satu"}}\r\n')
    testset = read_testset(config("jsonl", many), "vi", ["th", "ms", "id"])
    assert testset.references == {"th": ("หนึ่ง",), "ms": ("Satu",)}
    assert testset.missing["id"].startswith("many.jsonl has no key references.id")
    assert not testset.has_document_ids


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"source": "a", "reference": "b"}\n{"source": "c", "reference": "d"\n', r"set\.jsonl:2: invalid JSON"),
        ('{"source": "a", "reference": "b"}\n{"reference": "d"}\n', r"set\.jsonl:2: no field source"),
        ('{"source": "a", "reference": 3}\n', r"set\.jsonl:1: field reference is 3; expected a string"),
        ('{"source": "a", "reference": "b", "id": 1}\n', r"set\.jsonl:1: unknown field 'id'"),
        ('{"source": "a", "reference": "b"}\n\n', r"set\.jsonl:2: blank line"),
        ('["a", "b"]\n', r"set\.jsonl:1: a JSON list; expected an object"),
        ('{"source": "a", "references": {"th": "b"}}\n{"source": "c", "references": {"ms": "d"}}\n',
         r"set\.jsonl:2: references for ms, but line 1 has th"),
        ('{"source": "a", "reference": "b", "doc": "x"}\n{"source": "c", "reference": "d"}\n',
         r"set\.jsonl:2: lacks field doc, unlike line 1"),
        ('{"source": "a", "references": {"xx": "b"}}\n', r"set\.jsonl:1: field references\.xx: unknown language code"),
        ('{"source": "a", "references": ["b"]}\n', r"set\.jsonl:1: field references is list; expected an object"),
        (b'{"source": "a", "reference": "b"}\n{"source": "\xff", "reference": "d"}\n', r"set\.jsonl:2: bytes .* not UTF-8"),
    ],
)
def test_jsonl_errors_name_file_line_and_field(tmp_path, text, message):
    path = write(tmp_path / "set.jsonl", text)
    with pytest.raises(TestSetError, match=message):
        read_testset(config("jsonl", path), "vi", ["th"])


# --- the config model ---------------------------------------------------------------------------------------------


def test_registry_lists_every_format():
    assert TESTSETS.names() == ["flores200", "jsonl", "ntrex128", "sacrebleu", "tsv"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"format": "ntrex"}, r"unknown test set format 'ntrex'; did you mean 'ntrex128'\?.*flores200, jsonl"),
        ({"format": "ntrex128", "path": "x", "split": "dev"}, r"format ntrex128 has no split 'dev'; it has no splits"),
        ({"format": "tsv", "path": "x", "name": "wmt19"}, r"format tsv takes no `name`"),
        ({"format": "tsv"}, r"format tsv needs `path`"),
        ({"format": "ntrex128", "path": "x", "extra": 1}, r"extra"),
    ],
)
def test_config_rejects_what_the_format_does_not_have(fields, message):
    with pytest.raises(ValidationError, match=message):
        TestSetConfig(**fields)


def test_config_resolves_paths_and_reports_problems(tmp_path):
    resolved = TestSetConfig(format="ntrex128", path="../corpus/ntrex128-excerpt").resolved(ROOT / "configs")
    assert resolved.path == NTREX and resolved.problems() == []
    missing = TestSetConfig(format="tsv", path="nope.tsv").resolved(tmp_path)
    assert missing.problems() == [("testset.path", f"{tmp_path / 'nope.tsv'} does not exist (a .tsv file with a header row)")]
    assert TestSetConfig(format="ntrex128", path=tmp_path).problems()[0][1].endswith(
        "holds neither NTREX-128/newstest2019-src.eng.txt nor newstest2019-src.eng.txt")


def test_testset_error_is_a_corpus_error():
    assert issubclass(TestSetError, CorpusError)


# --- FLORES-200 and FLORES+ (invented sentences in the real layouts) ----------------------------------------------


def _flores200(base: Path, split: str = "devtest", metadata: bool = True) -> Path:
    root = base / "flores200_dataset"
    write(root / split / f"vie_Latn.{split}", "Câu một.\nCâu hai.\nCâu ba.\n")
    write(root / split / f"tha_Thai.{split}", "ประโยคหนึ่ง\nประโยคสอง\nประโยคสาม\n")
    write(root / split / f"zsm_Latn.{split}", "Ayat satu.\nAyat dua.\nAyat tiga.\n")
    if metadata:
        write(root / f"metadata_{split}.tsv",
              "URL\tdomain\ttopic\thas_image\thas_hyperlink\n"
              "https://en.wikinews.org/wiki/A\twikinews\tsports\t0\t0\n"
              "https://en.wikinews.org/wiki/A\twikinews\tsports\t0\t0\n"
              "https://en.wikivoyage.org/wiki/B\twikivoyage\ttravel\t0\t1\n")
    return root


@pytest.mark.parametrize("point_at", ["dataset", "parent"])
def test_flores200_layout_with_metadata_documents(tmp_path, point_at):
    root = _flores200(tmp_path)
    path = root if point_at == "dataset" else tmp_path
    testset = read_testset(config("flores200", path, split="devtest"), "vi", ["th", "ms", "id"])
    assert testset.name == "FLORES-200 devtest"
    assert testset.sources == ("Câu một.", "Câu hai.", "Câu ba.")
    assert testset.references["ms"][2] == "Ayat tiga." and testset.reference_paths["th"].name == "tha_Thai.devtest"
    assert testset.documents == ("doc1", "doc1", "doc2") and testset.has_document_ids
    assert testset.missing == {"id": f"FLORES-200 devtest has no ind_Latn.devtest in {root / 'devtest'} (also looked for ind_Latn)"}


def test_flores_plus_layout_without_extension_or_metadata(tmp_path):
    root = tmp_path / "floresp-v2.0"
    write(root / "dev" / "vie_Latn", "Một\nHai\n")
    write(root / "dev" / "cmn_Hans", "一\n二\n")  # FLORES+ renamed zho_Hans
    write(root / "devtest" / "vie_Latn", "other split\n")
    testset = read_testset(config("flores200", tmp_path, split="dev"), "vi", ["zh"])
    assert testset.name == "FLORES+ dev"
    assert testset.references["zh"] == ("一", "二") and testset.reference_paths["zh"] == root / "dev" / "cmn_Hans"
    assert testset.documents == ("FLORES+ dev",) * 2 and not testset.has_document_ids


def test_flores_errors(tmp_path):
    root = _flores200(tmp_path)
    with pytest.raises(TestSetError, match=r"no FLORES file for the pivot language ja \(looked for jpn_Jpan\.devtest, jpn_Jpan\)"):
        read_testset(config("flores200", root, split="devtest"), "ja", ["th"])
    write(root / "devtest" / "ind_Latn.devtest", "Satu\nDua\n")
    with pytest.raises(TestSetError, match=r"ind_Latn\.devtest: 2 rows, but .*vie_Latn\.devtest has 3"):
        read_testset(config("flores200", root, split="devtest"), "vi", ["id"])
    write(root / "metadata_devtest.tsv", "URL\tdomain\nhttps://a\tx\n")
    with pytest.raises(TestSetError, match=r"metadata_devtest\.tsv: 1 rows, but .*vie_Latn\.devtest has 3"):
        read_testset(config("flores200", root, split="devtest"), "vi", ["th"])
    write(root / "metadata_devtest.tsv", "domain\ttopic\nx\ty\n")
    with pytest.raises(TestSetError, match=r"metadata_devtest\.tsv:1: no URL column"):
        read_testset(config("flores200", root, split="devtest"), "vi", ["th"])
    # the dev split is not there: a load-time problem, and the same message at read time
    problems = TestSetConfig(format="flores200", path=tmp_path, split="dev").problems()
    assert problems == [("testset.path", f"{tmp_path}: no dev/ folder here or in flores200_dataset/; expected "
                                         "flores200_dataset/ (or a FLORES+ folder holding dev/ and devtest/), or the folder above it")]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"format": "flores200", "path": "x"}, r"format flores200 needs `split`: one of dev, devtest"),
        ({"format": "flores200", "path": "x", "split": "test"}, r"format flores200 has no split 'test'; its splits are dev, devtest"),
    ],
)
def test_flores_split_is_required_and_checked(fields, message):
    with pytest.raises(ValidationError, match=message):
        TestSetConfig(**fields)


# --- sacrebleu's cache (invented sentences in sacrebleu 2.x's extracted-file layout) -----------------------------


@pytest.fixture
def sacrebleu_cache(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "sacrebleu-home"
    monkeypatch.setenv("SACREBLEU", str(home))
    folder = home / "wmt20"
    write(folder / "wmt20.en-de.src", "Hello.\nGood bye.\nThanks.\n")
    write(folder / "wmt20.en-de.ref", "Hallo.\nTschüss.\nDanke.\n")
    write(folder / "wmt20.en-de.docid", "news.1\nnews.1\nnews.2\n")
    write(folder / "wmt20.en-de.origlang", "en\nen\nen\n")
    write(folder / "wmt20.en-ja.src", "Hello.\nGood bye.\nThanks.\n")
    write(folder / "wmt20.en-ja.ref-A", "こんにちは。\nさようなら。\nありがとう。\n")
    write(folder / "wmt20.en-ja.ref-B", "やあ。\nじゃあね。\nどうも。\n")
    write(folder / "wmt20.en-zh.src", "Other.\nSentences.\n")
    write(folder / "wmt20.en-zh.ref", "其他。\n句子。\n")
    write(home / "wmt19" / "dev" / "wmt19_dev.de-en.src", "Hallo.\n")
    write(home / "wmt19" / "dev" / "wmt19_dev.de-en.ref", "Hello.\n")
    return home


def test_sacrebleu_cache_reads_pairs_offline(sacrebleu_cache):
    testset = read_testset(config("sacrebleu", name="wmt20"), "en", ["de", "ja", "zh", "fr"])
    folder = sacrebleu_cache / "wmt20"
    assert testset.name == "sacrebleu wmt20" and testset.source_path == folder / "wmt20.en-de.src"
    assert testset.sources == ("Hello.", "Good bye.", "Thanks.")
    assert testset.references["de"] == ("Hallo.", "Tschüss.", "Danke.")
    assert testset.reference_paths["ja"] == folder / "wmt20.en-ja.ref-A"  # the first of several references
    assert testset.documents == ("news.1", "news.1", "news.2") and testset.has_document_ids
    assert "translates other source sentences than en-de" in testset.missing["zh"]
    assert testset.missing["fr"].startswith("sacrebleu wmt20 has no en-fr pair")


def test_sacrebleu_sub_set_names_and_explicit_path(sacrebleu_cache, monkeypatch):
    monkeypatch.delenv("SACREBLEU")
    testset = read_testset(config("sacrebleu", sacrebleu_cache, name="wmt19/dev"), "de", ["en"])
    assert testset.references["en"] == ("Hello.",) and testset.source_path.name == "wmt19_dev.de-en.src"
    assert testset.documents == ("wmt19/dev",) and not testset.has_document_ids


def test_sacrebleu_set_not_in_cache_says_where_and_never_downloads(sacrebleu_cache):
    with pytest.raises(TestSetError, match=rf"{sacrebleu_cache / 'wmt21'}: sacrebleu wmt21 is not in the cache; "
                                           r"evalkit never downloads: on a connected machine run `sacrebleu -t wmt21"):
        read_testset(config("sacrebleu", name="wmt21"), "en", ["de"])
    with pytest.raises(TestSetError, match=r"knows no test set 'flores200'.*format: flores200"):
        read_testset(config("sacrebleu", name="flores200"), "en", ["de"])
    problems = config("sacrebleu", name="wmt22").problems()
    assert problems[0][0] == "testset.name" and "never downloads" in problems[0][1]
    assert config("sacrebleu", name="wmt20").problems() == []


def test_sacrebleu_missing_pivot_is_an_error(sacrebleu_cache):
    with pytest.raises(TestSetError, match=r"has no pair from the pivot language ja in the cache \(cached pairs: en-de, en-ja, en-zh\)"):
        read_testset(config("sacrebleu", name="wmt20"), "ja", ["en"])


def test_sacrebleu_needs_a_name(tmp_path):
    with pytest.raises(ValidationError, match=r"format sacrebleu needs `name`"):
        TestSetConfig(format="sacrebleu")


def test_sacrebleu_uses_the_reference_sacrebleu_prefers(sacrebleu_cache):
    folder = sacrebleu_cache / "wmt23"
    write(folder / "wmt23.de-en.src", "Hallo.\n")
    write(folder / "wmt23.de-en.ref-B", "Hi.\n")
    write(folder / "wmt23.de-en.ref-refA", "Hello.\n")  # sacrebleu 2.6's catalogue: de-en is scored against ref:refA
    write(folder / "wmt23.de-en.ONLINE-A", "Hello there.\n")  # a system output field, never a reference
    testset = read_testset(config("sacrebleu", name="wmt23"), "de", ["en"])
    assert testset.references["en"] == ("Hello.",) and testset.reference_paths["en"].name == "wmt23.de-en.ref-refA"
