"""Development and held-out sets for the aligner and the document verdict.

Built from two sources only: ``shared/corpus/ntrex128-docs`` (90 real news
articles, line i of vi/th/ms/id/en the same sentence; a copy of a few lives in
``tests/data/ntrex128``) and the shipped corpus ``corpus/vn-jp-2023`` with its
gold.  Every case is a (source texts, target texts, gold index pairs, label)
made by seeded edits of a real document pair:

  clean        the pair as it is
  boiler_tgt   3 site lines inserted in the reference (related links, dates, chrome)
  boiler_src   the same in the pivot
  delete_tgt   one reference sentence deleted (its pivot sentence has no counterpart)
  delete_src   one pivot sentence deleted
  merge        two adjacent reference sentences joined (a 2-1 bead)
  split        one reference sentence cut in two (a 1-2 bead)
  truncate     the reference cut after 50-80 % of its sentences
  reorder      a block of 2-3 reference sentences moved elsewhere
  combo_tgt    3 boilerplate lines + a deletion + a merge + a split, in the reference
  combo_src    the same in the pivot

Unrelated cases pair a pivot with another article's reference (clean or with
boilerplate); the ``hard`` ones are the other articles sharing the most
numbers and Latin-script names with it (the closest thing to a same-event
article NTREX has), plus the shipped corpus's Indonesian interview about the
same state visit.

Documents are split by a hash of the article id into ``dev`` (tune here) and
``test`` (report only).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NTREX = (ROOT.parent / "shared" / "corpus" / "ntrex128-docs")
NTREX_TESTS = ROOT / "tests" / "data" / "ntrex128"
LANGS = ("vi", "th", "ms", "id", "en")

EDITS = ("clean", "boiler_tgt", "boiler_src", "delete_tgt", "delete_src", "merge", "split", "truncate",
         "reorder", "combo_tgt", "combo_src")

# Site lines of the kinds news pages carry, per language.  "{h}" is a headline of another article.
BOILERPLATE = {
    "vi": ["Xem thêm: {h}", "Thứ Hai, 27/11/2023, 14:30 (GMT+7)", "Chia sẻ bài viết", "Bình luận (0)",
           "Tin liên quan", "Cập nhật lúc 10:20 ngày 28/11/2023", "Đọc thêm: {h}", "VnExpress"],
    "th": ["อ่านเพิ่มเติม: {h}", "28 พ.ย. 2566 เวลา 14:30 น.", "แชร์ข่าวนี้", "ความคิดเห็น (0)",
           "ข่าวที่เกี่ยวข้อง", "อัปเดตล่าสุด 10:20 น.", "อ่านต่อ: {h}", "ไทยรัฐออนไลน์"],
    "ms": ["Baca juga: {h}", "Isnin, 27 Nov 2023 14:30 MYT", "Kongsi artikel ini", "Komen (0)",
           "Berita berkaitan", "Dikemas kini 10:20", "Baca lagi: {h}", "Berita Harian"],
    "id": ["Baca juga: {h}", "Senin, 27 Nov 2023 14:30 WIB", "Bagikan artikel ini", "Komentar (0)",
           "Berita terkait", "Diperbarui 10:20 WIB", "Simak juga: {h}", "Kompas.com"],
    "en": ["Read more: {h}", "Monday 27 November 2023 14:30 GMT", "Share this article", "Comments (0)",
           "Related articles", "Updated 10:20", "See also: {h}", "The Daily News"],
}


@dataclass
class Case:
    name: str  # e.g. "bbc.381646/vi-th/combo_tgt/0"
    split: str  # dev | test
    edit: str
    related: bool  # ground truth of the document verdict
    hard: bool  # unrelated but sharing numbers/names (a same-event stand-in)
    source: list[str]
    target: list[str]
    source_lang: str
    target_lang: str
    gold: list[tuple[tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)  # index pairs


def split_of(doc_id: str) -> str:
    return "test" if int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % 3 == 0 else "dev"


@lru_cache(maxsize=None)
def load_ntrex(folder: Path = NTREX) -> dict[str, dict[str, list[str]]]:
    """doc id -> lang -> sentences (empty dict when the folder is missing)."""
    if not folder.is_dir():
        return {}
    docs = {}
    for d in sorted(p for p in folder.iterdir() if p.is_dir()):
        if all((d / f"{lang}.txt").is_file() for lang in LANGS[:4]):
            docs[d.name] = {lang: (d / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
                            for lang in LANGS if (d / f"{lang}.txt").is_file()}
    return docs


# --------------------------------------------------------------------------- edits on unit lists
# A side is a list of units; a unit is (text, frozenset of sentence ids); boilerplate has no ids.

Unit = tuple[str, frozenset]


def _units(lines: list[str]) -> list[Unit]:
    return [(t, frozenset({k})) for k, t in enumerate(lines)]


def cut_in_two(text: str) -> tuple[str, str] | None:
    """Cut at the clause/sentence end nearest the middle, else at a space near it."""
    cuts = [m.end() for m in re.finditer(r"[.!?;:,”\"]\s+", text) if 0.3 < m.end() / len(text) < 0.7]
    if not cuts:
        cuts = [m.end() for m in re.finditer(r"\s+", text) if 0.3 < m.end() / len(text) < 0.7]
    if not cuts:
        return None
    cut = min(cuts, key=lambda c: abs(c - len(text) / 2))
    return text[:cut].strip(), text[cut:].strip()


def _insert_boiler(side: list[Unit], lang: str, headlines: list[str], rng: random.Random, k: int = 3) -> None:
    for line in rng.sample(BOILERPLATE[lang], k):
        text = line.format(h=rng.choice(headlines)) if "{h}" in line else line
        spots = [k for k in range(len(side) + 1) if k in (0, len(side)) or not (side[k - 1][1] & side[k][1])]
        side.insert(rng.choice(spots), (text, frozenset()))  # never between the two halves of a split


def _delete(side: list[Unit], rng: random.Random) -> None:
    count: dict = {}
    for _, ids in side:
        for x in ids:
            count[x] = count.get(x, 0) + 1
    real = [k for k, u in enumerate(side) if len(u[1]) == 1 and all(count[x] == 1 for x in u[1])]
    if len(real) > 2:
        del side[rng.choice(real)]


def _merge(side: list[Unit], rng: random.Random, sep: str = " ") -> None:
    cands = [k for k in range(len(side) - 1) if side[k][1] and side[k + 1][1]]
    if cands:
        k = rng.choice(cands)
        side[k:k + 2] = [(side[k][0] + sep + side[k + 1][0], side[k][1] | side[k + 1][1])]


def _split(side: list[Unit], rng: random.Random) -> None:
    cands = [k for k, u in enumerate(side) if len(u[1]) == 1 and cut_in_two(u[0])]
    if cands:
        k = rng.choice(cands)
        a, b = cut_in_two(side[k][0])
        side[k:k + 1] = [(a, side[k][1]), (b, side[k][1])]


def _truncate(side: list[Unit], rng: random.Random) -> None:
    keep = max(2, int(round(len(side) * rng.uniform(0.5, 0.8))))
    del side[keep:]


def _reorder(side: list[Unit], rng: random.Random) -> None:
    if len(side) < 6:
        return
    size = rng.choice((2, 3))
    start = rng.randrange(len(side) - size + 1)
    block = side[start:start + size]
    del side[start:start + size]
    dest = rng.choice([k for k in range(len(side) + 1) if abs(k - start) >= 2] or [0])
    side[dest:dest] = block


def gold_pairs(src: list[Unit], tgt: list[Unit]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Connected components of units sharing sentence ids, as (source idx, target idx) beads."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner_s: dict = {}
    for i, (_, ids) in enumerate(src):
        for sid in ids:
            owner_s.setdefault(sid, []).append(i)
    for j, (_, ids) in enumerate(tgt):
        for sid in ids:
            for i in owner_s.get(sid, ()):
                parent[find(("t", j))] = find(("s", i))
    groups: dict = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    out = []
    for members in groups.values():
        s = tuple(sorted(k for side, k in members if side == "s"))
        t = tuple(sorted(k for side, k in members if side == "t"))
        if s and t:
            out.append((s, t))
    return sorted(out)


def apply_edit(edit: str, src: list[Unit], tgt: list[Unit], langs: tuple[str, str], headlines: list[str],
               rng: random.Random) -> None:
    sl, tl = langs
    if edit == "boiler_tgt":
        _insert_boiler(tgt, tl, headlines, rng)
    elif edit == "boiler_src":
        _insert_boiler(src, sl, headlines, rng)
    elif edit == "delete_tgt":
        _delete(tgt, rng)
    elif edit == "delete_src":
        _delete(src, rng)
    elif edit == "merge":
        _merge(tgt, rng)
    elif edit == "split":
        _split(tgt, rng)
    elif edit == "truncate":
        _truncate(tgt, rng)
    elif edit == "reorder":
        _reorder(tgt, rng)
    elif edit in ("combo_tgt", "combo_src"):
        side, lang = (tgt, tl) if edit == "combo_tgt" else (src, sl)
        _merge(side, rng)  # merge and split before deleting, so a merge never spans a deleted line
        _split(side, rng)
        _delete(side, rng)
        _insert_boiler(side, lang, headlines, rng)
    elif edit != "clean":
        raise ValueError(edit)


def _anchors(lines: list[str]) -> set[str]:
    text = " ".join(lines)
    return set(re.findall(r"\d+", text)) | {w for w in re.findall(r"\b[A-Z][a-z]{2,}\b", text)}


def ntrex_cases(split: str | None = None, pairs: tuple[str, ...] = ("th", "ms", "id"), seeds: int = 1,
                edits: tuple[str, ...] = EDITS, unrelated: int = 3, hard: int = 2,
                folder: Path = NTREX) -> list[Case]:
    docs = load_ntrex(folder)
    ids = [d for d in docs if split is None or split_of(d) == split]
    cases: list[Case] = []
    for doc in ids:
        for tl in pairs:
            headlines = [docs[o][tl][0] for o in docs if o != doc]
            src_h = [docs[o]["vi"][0] for o in docs if o != doc]
            for seed in range(seeds):
                for edit in edits:
                    rng = random.Random(f"{doc}/{tl}/{edit}/{seed}")
                    src, tgt = _units(docs[doc]["vi"]), _units(docs[doc][tl])
                    apply_edit(edit, src, tgt, ("vi", tl), headlines if edit != "boiler_src" and edit != "combo_src"
                               else src_h, rng)
                    cases.append(Case(f"{doc}/vi-{tl}/{edit}/{seed}", split_of(doc), edit, True, False,
                                      [u[0] for u in src], [u[0] for u in tgt], "vi", tl, gold_pairs(src, tgt)))
            # unrelated: random others and the closest others (shared numbers / names)
            rng = random.Random(f"{doc}/{tl}/unrelated")
            others = [o for o in docs if o != doc]
            mine = _anchors(docs[doc]["en"] if "en" in docs[doc] else docs[doc]["vi"])
            closest = sorted(others, key=lambda o: (-len(mine & _anchors(docs[o].get("en", docs[o]["vi"]))), o))[:hard]
            picks = [(o, True) for o in closest] + [(o, False) for o in rng.sample(
                [o for o in others if o not in closest], min(unrelated, len(others) - len(closest)))]
            for k, (other, is_hard) in enumerate(picks):
                src, tgt = _units(docs[doc]["vi"]), [(t, frozenset()) for t in docs[other][tl]]
                if k % 2:
                    _insert_boiler(tgt, tl, [docs[o][tl][0] for o in others], rng)
                cases.append(Case(f"{doc}/vi-{tl}/unrelated:{other}", split_of(doc), "unrelated", False, is_hard,
                                  [u[0] for u in src], [u[0] for u in tgt], "vi", tl, []))
    return cases


# --------------------------------------------------------------------------- the shipped corpus


def shipped_cases(seeds: int = 3, edits: tuple[str, ...] = EDITS) -> list[Case]:
    """Seeded edits of the gold core of corpus/vn-jp-2023 (vi-th, vi-ms) and its unrelated pairs.

    The shipped corpus is the project's development corpus: these cases count as ``dev``."""
    import sys

    sys.path.insert(0, str(ROOT))
    from evalkit.align.gold import load_gold
    from evalkit.corpus import load_document

    corpus = ROOT / "corpus" / "vn-jp-2023"
    cases = []
    for gold_file in sorted((ROOT / "tests" / "data" / "gold").glob("*.json")):
        gold = load_gold(gold_file)
        s_text = {p.line: p.text for p in load_document(corpus / gold.pivot).paragraphs}
        t_text = {p.line: p.text for p in load_document(corpus / gold.target).paragraphs}
        src_lines = [s_text[s[0]] for s, _ in gold.pairs]
        tgt_lines = [" ".join(t_text[x] for x in t) for _, t in gold.pairs]
        tl = gold.target_lang
        for seed in range(seeds):
            for edit in edits:
                rng = random.Random(f"shipped/{tl}/{edit}/{seed}")
                src, tgt = _units(src_lines), _units(tgt_lines)
                apply_edit(edit, src, tgt, ("vi", tl), ["Việt Nam và Nhật Bản nâng cấp quan hệ"], rng)
                cases.append(Case(f"vn-jp-2023/vi-{tl}/{edit}/{seed}", "dev", edit, True, False,
                                  [u[0] for u in src], [u[0] for u in tgt], "vi", tl, gold_pairs(src, tgt)))
    vi = load_document(corpus / "002_6d8f2e7b812a4376.txt").texts
    for name, lang, hard in (("003_80fd675a9a6137d2.txt", "id", True), ("004_424d4b2d4314c3a5.txt", "vi", False)):
        cases.append(Case(f"vn-jp-2023/vi-{lang}/unrelated:{name[:3]}", "dev", "unrelated", False, hard, vi,
                          load_document(corpus / name).texts, "vi", lang, []))
    return cases
