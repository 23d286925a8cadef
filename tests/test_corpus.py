from pathlib import Path

import pytest

from conftest import CORPUS, MALAY, OTHER_VI, PIVOT, THAI
from evalkit.corpus import load_document, read_document
from evalkit.corpus.clean import boilerplate_reason, normalise
from evalkit.errors import CorpusError


def test_normalise_composes_and_removes_invisible_spaces():
    decomposed = "Vie\u0302\u0323t\u00a0Nam\u200b  2023"
    assert normalise(decomposed) == "Việt Nam 2023"
    assert normalise("a\u200cb") == "a\u200cb"  # ZWNJ carries meaning in some scripts: kept


def test_every_line_is_kept_or_dropped_with_a_reason():
    for name in (PIVOT, THAI, MALAY, OTHER_VI):
        raw = read_document(CORPUS / name)
        doc = load_document(CORPUS / name)
        non_empty = [i for i, line in enumerate(raw.lines, 1) if line.strip()]
        accounted = sorted([p.line for p in doc.paragraphs] + [d.line for d in doc.dropped])
        assert accounted == non_empty, name
        assert all(d.reason for d in doc.dropped)


def test_corpus_boilerplate_html_and_repeats_are_dropped_with_reasons():
    thai = {d.line: d.reason for d in load_document(CORPUS / THAI).dropped}
    assert thai[45] == "repeat of line 43"  # the duplicated photo caption
    assert thai[70] == "comment counter"
    assert thai[1] == "site name" and thai[7] == "date line"
    assert thai[3] == "latin script in a thai-script document"  # the Vietnamese site's motto
    assert all(thai[n] == "page footer (after the comment counter on line 70)" for n in (72, 74, 83, 99))
    assert 65 not in thai and 67 not in thai  # the last article paragraph and a transliterated site name stay
    other = {d.line: d.reason for d in load_document(CORPUS / OTHER_VI).dropped}
    assert other[13] == "HTML markup only"
    assert other[46] == "related-news heading"
    assert other[53] == "page footer (after the related-news heading on line 46)"
    assert 44 not in other  # the agency sign-off before the footer is left to the aligner
    pivot = load_document(CORPUS / PIVOT)
    assert [d.line for d in pivot.dropped] == [35, 37]
    assert pivot.paragraphs[0].line == 1 and pivot.paragraphs[-1].line == 33
    assert "\u00a0" not in " ".join(pivot.texts)


def test_a_comment_counter_near_the_top_does_not_swallow_the_article(tmp_path):
    f = tmp_path / "doc.txt"
    body = ["A long first paragraph of the article, with enough words to matter."] * 1
    f.write_text("Headline\nComments (3)\n" + "\n".join(f"Paragraph {i}: " + body[0] for i in range(6)) + "\nComments (3)\nRelated one\n",
                 encoding="utf-8")
    doc = load_document(f)
    reasons = {d.line: d.reason for d in doc.dropped}
    assert reasons[2] == "comment counter" and len(doc.paragraphs) == 7
    assert reasons[10] == "page footer (after the comment counter on line 9)"


def test_markup_is_stripped_but_text_kept(tmp_path):
    f = tmp_path / "doc.txt"
    f.write_text("<p>Hai n&amp;ước <b>hợp tác</b></p>\n\nKomen (12)\n", encoding="utf-8")
    doc = load_document(f)
    assert doc.texts == ["Hai n&ước hợp tác"]
    assert [(d.line, d.reason) for d in doc.dropped] == [(3, "comment counter")]


@pytest.mark.parametrize("text", ["Tổng thống (Mỹ)", "Năm 2023 (1)", "Hai nước đã ký 3 (ba) hiệp định"])
def test_real_sentences_are_not_boilerplate(text):
    assert boilerplate_reason(text) is None


def test_missing_file_and_bad_encoding_name_the_file_and_line(tmp_path):
    with pytest.raises(CorpusError, match="corpus file not found"):
        read_document(tmp_path / "missing.txt")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("ok\nsecond\nViệt".encode("utf-8")[:-1] + b"\xe9t\n")
    with pytest.raises(CorpusError, match=r"latin1.txt:3: not valid UTF-8"):
        read_document(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    with pytest.raises(CorpusError, match="has no text"):
        read_document(Path(empty))


# --------------------------------------------------------------------------- issue 10: rules per language

from evalkit.corpus.clean import LANGUAGE_RULES, clean_document  # noqa: E402
from evalkit.corpus.read import RawDocument  # noqa: E402

NTREX_TESTS = Path(__file__).resolve().parent / "data" / "ntrex128"


def test_rules_are_a_table_for_every_shipped_language():
    assert set(LANGUAGE_RULES) >= {"vi", "th", "ms", "id", "en"}
    for lang, rules in LANGUAGE_RULES.items():
        assert {"related_headings", "related_prefixes", "weekdays", "months", "date_words", "timezones"} <= set(rules), lang


@pytest.mark.parametrize("text", [
    "Xem thêm: Việt Nam và Nhật Bản nâng cấp quan hệ lên Đối tác chiến lược toàn diện",
    "Đọc thêm >> Thủ tướng Kishida tiếp Chủ tịch nước",
    "Baca juga: Presiden Jokowi bertemu PM Jepang",
    "Baca Juga : Kunjungan kenegaraan ke Tokyo",
    "อ่านเพิ่มเติม: เวียดนาม-ญี่ปุ่นยกระดับความสัมพันธ์",
    "อ่านต่อ : นายกฯ ญี่ปุ่นต้อนรับประธานาธิบดีเวียดนาม",
    "Read more: Vietnam and Japan upgrade ties",
])
def test_related_links_lines_are_dropped(text):
    assert boilerplate_reason(text) == "related-links line"


@pytest.mark.parametrize("text", [
    "Thứ Ba, 28/11/2023 | 09:15", "Thứ Hai, 27/11/2023, 14:30 (GMT+7)", "Cập nhật: 09:15 28/11/2023",
    "วันอังคารที่ 28 พฤศจิกายน 2566, 09.15 น.", "28 พ.ย. 2566 เวลา 14:30 น.",
    "Selasa, 28 November 2023 09:15 MYT", "Jumat, 1 Desember 2023 - 08.30 WIB", "Diperbarui 10:20 WIB",
    "Published 28 November 2023", "Tuesday 28 November 2023 09:15 GMT",
])
def test_date_and_time_lines_are_dropped(text):
    assert boilerplate_reason(text) == "date line"


@pytest.mark.parametrize("text", [
    "Related-party deals rose 5% in 2023.",
    "Ngày 27/11, Chủ tịch nước Võ Văn Thưởng và Thủ tướng Kishida đã hội đàm.",
    "Lúc 10:00 sáng nay, hai bên đã ký 3 văn kiện.",
    "On Monday 27 November 2023 at 14:30 GMT the leaders met.",
    "Baca juga buku-buku sejarah untuk memahami hubungan kedua negara.",
])
def test_sentences_that_mention_dates_or_reading_are_kept(text):
    assert boilerplate_reason(text) is None


def test_no_real_ntrex_sentence_is_boilerplate():
    for folder in NTREX_TESTS.iterdir():
        if folder.is_dir():
            for lang in ("en", "vi", "th", "ms", "id"):
                for line in (folder / f"{lang}.txt").read_text(encoding="utf-8").splitlines():
                    assert boilerplate_reason(line) is None, (folder.name, lang, line)


@pytest.mark.parametrize("doc", ["bbc.381705", "upi.176251"])
def test_thai_sentences_dense_with_latin_names_are_kept(doc):
    """Issue: 'Patrick Dwyer หวดสองประตูให้กับ Giants ต่อ Dundee' was dropped as latin script in a thai-script document."""
    lines = (NTREX_TESTS / doc / "th.txt").read_text(encoding="utf-8").splitlines()
    cleaned = clean_document(RawDocument(Path(f"{doc}.txt"), tuple(lines)))
    assert cleaned.texts == [normalise(x) for x in lines] and not cleaned.dropped


def test_a_foreign_language_line_is_still_dropped_from_a_thai_page():
    lines = (NTREX_TESTS / "bbc.381705" / "th.txt").read_text(encoding="utf-8").splitlines()
    motto = "Độc lập - Tự do - Hạnh phúc cho toàn thể nhân dân Việt Nam"
    cleaned = clean_document(RawDocument(Path("th.txt"), tuple([motto] + lines)))
    assert [(d.line, d.reason) for d in cleaned.dropped] == [(1, "latin script in a thai-script document")]
    assert cleaned.texts == [normalise(x) for x in lines]
