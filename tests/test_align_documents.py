"""Issue 10 on real documents: the verdict accepts real translations under edits and rejects
unrelated (same-event) articles, pair confidences do not collapse with the verdict, and weak
evidence leaves paragraphs unmatched instead of pairing them with a neighbour.

Cases are built from six NTREX-128 articles copied into tests/data/ntrex128 and from the shipped
corpus, with the seeded edits of benchmarks/alignment_devset.py.
"""

from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from alignment_devset import NTREX_TESTS, _units, apply_edit, gold_pairs, load_ntrex, shipped_cases  # noqa: E402

from evalkit.align import align_paragraphs, assess_translation  # noqa: E402
from evalkit.align.gold import score_alignment  # noqa: E402

DOCS = load_ntrex(NTREX_TESTS)
LANGS = ("th", "ms", "id")


def judge(src, tgt, tl, sl="vi"):
    al = align_paragraphs(src, tgt, sl, tl)
    return al, assess_translation(src, tgt, al, sl, tl)


def edited(doc: str, tl: str, edits: tuple[str, ...], seed: int = 0):
    rng = random.Random(f"{doc}/{tl}/{edits}/{seed}")
    src, tgt = _units(DOCS[doc]["vi"]), _units(DOCS[doc][tl])
    for edit in edits:
        heads = [DOCS[o][tl if not edit.endswith("_src") else "vi"][0] for o in DOCS if o != doc]
        apply_edit(edit, src, tgt, ("vi", tl), heads, rng)
    return [u[0] for u in src], [u[0] for u in tgt], gold_pairs(src, tgt)


def test_the_test_articles_are_there():
    assert len(DOCS) == 6 and all(set(d) == {"en", "vi", "th", "ms", "id"} for d in DOCS.values())


@pytest.mark.parametrize("seed", range(3))
def test_perturbed_thai_copy_of_the_shipped_translation_is_accepted_with_confident_pairs(seed):
    """Issue: three inserted lines, one merge, one split and one deletion scored 0.14 and every
    correct pair showed 0.06-0.16."""
    (case,) = [c for c in shipped_cases(seed + 1, edits=("combo_tgt",)) if c.name == f"vn-jp-2023/vi-th/combo_tgt/{seed}"]
    al, verdict = judge(case.source, case.target, "th")
    assert verdict.is_translation and verdict.score >= 0.9, verdict.reason
    acc = score_alignment([(b.source, b.target) for b in al.pairs], case.gold)
    assert acc.precision == 1.0 and acc.f1 >= 0.9
    right = [b.confidence for b in al.pairs if (b.source, b.target) in set(case.gold)]
    assert statistics.median(right) >= 0.8
    assert sum(c >= 0.5 for c in right) >= 0.8 * len(right)


@pytest.mark.parametrize("doc", ["abcnews.306758", "bbc.381694"])
@pytest.mark.parametrize("tl", LANGS)
def test_short_clean_articles_are_accepted_with_a_margin(doc, tl):
    """Issue: clean short Thai articles sat at 0.65-0.77."""
    al, verdict = judge(DOCS[doc]["vi"], DOCS[doc][tl], tl)
    assert verdict.score >= 0.9, verdict.reason
    assert {(b.source, b.target) for b in al.pairs} == {((k,), (k,)) for k in range(len(DOCS[doc]["vi"]))}


def wrong_pairs(al, gold):
    return [b for b in al.pairs if (b.source, b.target) not in set(gold)]


def longest_shifted_run(al, gold) -> int:
    """Longest run of consecutive pairs that are all wrong (the issue's 'shifted beads')."""
    best = run = 0
    for b in al.pairs:
        run = run + 1 if (b.source, b.target) not in set(gold) else 0
        best = max(best, run)
    return best


@pytest.mark.parametrize("side", ["tgt", "src"])
@pytest.mark.parametrize("tl", LANGS)
def test_boilerplate_plus_a_deletion_on_either_side_is_still_a_translation(side, tl):
    """Issue: with a few boilerplate lines and one deletion a third (noise in the reference) to a half
    (noise in the pivot) of real pairs were rejected.  Three site lines and a deletion in a 5-sentence
    article leave little evidence: articles of 10+ sentences must all pass, the short ones may not."""
    accepted = confident_wrong = 0
    for doc in DOCS:
        src, tgt, gold = edited(doc, tl, (f"boiler_{side}", f"delete_{side}"))
        al, verdict = judge(src, tgt, tl)
        accepted += verdict.is_translation
        if len(DOCS[doc]["vi"]) >= 10:
            assert verdict.is_translation, (doc, verdict.reason)
        acc = score_alignment([(b.source, b.target) for b in al.pairs], gold)
        if len(DOCS[doc]["vi"]) >= 10:
            assert acc.precision >= 0.9, (doc, acc)
        # no sure wrong pair, and confident wrong pairs are rare: where the deleted sentence and its
        # neighbour say similar things the evidence is thin (euronews-en.153826 vi-id: "Tôi vô cùng hạnh
        # phúc…" / "…tôi vui mừng…" next to the deleted one, 0.90 with the lexicon; bbc.381694 vi-th, a
        # 5-sentence article, 0.84)
        assert not [b for b in wrong_pairs(al, gold) if b.confidence >= 0.95], doc
        confident_wrong += len([b for b in wrong_pairs(al, gold) if b.confidence >= 0.8])
        assert longest_shifted_run(al, gold) <= 2, doc
    assert confident_wrong <= 1
    assert accepted >= len(DOCS) - 1


@pytest.mark.parametrize("tl", LANGS)
def test_unrelated_and_same_event_articles_are_rejected(tl):
    docs = sorted(DOCS)
    for a in docs:
        for b in docs:
            if a != b:
                _, verdict = judge(DOCS[a]["vi"], DOCS[b][tl], tl)
                assert not verdict.is_translation and verdict.score <= 0.05, (a, b, verdict.reason)


def test_the_shipped_same_visit_interview_is_rejected():
    (case,) = [c for c in shipped_cases(1, edits=()) if c.name.endswith("unrelated:003")]
    _, verdict = judge(case.source, case.target, "id")
    assert not verdict.is_translation and verdict.score <= 0.05


def test_pair_confidence_is_not_scaled_by_the_document_verdict():
    """An unrelated document is rejected by the verdict, not by zeroing its pairs' confidences,
    and a translation's pairs keep their posterior however strong the document evidence is."""
    doc = "bbc.381646"
    al, verdict = judge(DOCS[doc]["vi"], DOCS[doc]["th"], "th")
    assert verdict.is_translation
    assert statistics.median(b.confidence for b in al.pairs) >= 0.9


@pytest.mark.parametrize("tl", LANGS)
def test_clean_one_to_one_documents_have_no_wrong_pairs_and_a_merge_shifts_nothing(tl):
    """Issue: on a clean 1:1 Indonesian set one 2-1 bead shifted the next three pairs by one line.
    (Clean documents: every pair right; a Thai sentence whose English names the Vietnamese translated
    may be left unmatched, which costs recall, never a wrong score.)"""
    for doc in DOCS:
        n = len(DOCS[doc]["vi"])
        al, _ = judge(DOCS[doc]["vi"], DOCS[doc][tl], tl)
        identity = [((k,), (k,)) for k in range(n)]
        acc = score_alignment([(b.source, b.target) for b in al.pairs], identity)
        assert acc.precision == 1.0 and acc.recall >= 0.8, (doc, acc)
        if tl != "th":
            assert acc.recall == 1.0, (doc, acc)
        src, tgt, gold = edited(doc, tl, ("merge",))
        al, _ = judge(src, tgt, tl)
        acc = score_alignment([(b.source, b.target) for b in al.pairs], gold)
        if n >= 10:
            assert acc.precision >= 0.9 and acc.recall >= 0.8, (doc, acc)
        else:
            # a 5-sentence article whose title was glued to its first sentence: the title may be left out of
            # the pair (with the lexicon, bbc.381694 vi-ms pairs sentence 1 alone with the merged line at
            # 0.49), flagged as more likely wrong than right
            assert not [b for b in wrong_pairs(al, gold) if b.confidence >= 0.5], doc
        assert longest_shifted_run(al, gold) <= 2, doc


@pytest.mark.parametrize("tl", LANGS)
def test_a_paragraph_whose_counterpart_is_deleted_never_pairs_with_a_neighbour(tl):
    """Issue: the source was paired with a neighbour in 6 of 36 runs.  Every target line of two
    articles is deleted in turn; wrong pairs must stay rare and never be confident."""
    runs = wrong_runs = 0
    for doc in ("bbc.381705", "upi.176251"):
        n = len(DOCS[doc]["vi"])
        for k in range(n):
            tgt = DOCS[doc][tl][:k] + DOCS[doc][tl][k + 1:]
            gold = {((i,), (i if i < k else i - 1,)) for i in range(n) if i != k}
            al, verdict = judge(DOCS[doc]["vi"], tgt, tl)
            assert verdict.is_translation
            wrong = [b for b in al.pairs if (b.source, b.target) not in gold]
            runs += 1
            wrong_runs += bool(wrong)
            assert all(b.confidence < 0.9 for b in wrong), (doc, k, wrong)
    assert wrong_runs <= runs // 10, (wrong_runs, runs)


@pytest.mark.parametrize("tl", LANGS)
def test_related_links_lines_are_never_paired(tl):
    """Issue: a "Xem thêm: ..." line was merged 2-1 into a real pair (the aligner alone, no cleaning)."""
    doc = "bbc.381646"
    other = DOCS["euronews-en.153826"]
    src, tgt = list(DOCS[doc]["vi"]), DOCS[doc][tl]
    for k in (1, 7, 15):
        src.insert(k, "Xem thêm: " + other["vi"][k % len(other["vi"])])
    al, _ = judge(src, tgt, tl)
    junk = {k for k, p in enumerate(src) if p.startswith("Xem thêm:")}
    assert not any(set(b.source) & junk for b in al.pairs)
    assert junk <= set(al.unmatched_source)


# --------------------------------------------------------------------------- session 3: what the dev errors showed


def test_latin_names_both_documents_share_do_not_make_a_thai_paragraph_look_foreign():
    """bbc.381705's Thai sentences are dense with hockey players' names: they were priced as foreign-script
    boilerplate (up to 6 nats) and lost their pairs.  Names the Vietnamese also has are not foreign."""
    from evalkit.align.costs import pairing_penalties, shared_latin_words
    from evalkit.align.text import document_features

    doc = DOCS["bbc.381705"]
    vi, th = document_features(doc["vi"], "vi"), document_features(doc["th"], "th")
    before = pairing_penalties(th)
    after = pairing_penalties(th, shared_latin_words(vi, th))
    assert before.max() >= 3.0  # what the issue describes
    assert after.max() < 1.0 and after.sum() < 0.25 * before.sum()
    # the Vietnamese side is Latin script: nothing changes there
    assert (pairing_penalties(vi, shared_latin_words(vi, th)) == pairing_penalties(vi)).all()


def test_a_sentence_broken_across_two_paragraphs_is_merged_back():
    """A reference line cut mid-sentence (no final punctuation, the next line in lower case) is one
    sentence: it must come back as a 1-2 bead, not a 1-1 pair plus an unmatched half."""
    from evalkit.align.costs import continuations
    from evalkit.align.text import document_features

    doc = "upi.176251"
    for tl in ("ms", "id"):
        tgt = list(DOCS[doc][tl])
        k = 5
        words = tgt[k].split()
        half = len(words) // 2
        tgt[k:k + 1] = [" ".join(words[:half]), " ".join(words[half:])]
        if not tgt[k + 1][0].islower():
            tgt[k + 1] = tgt[k + 1][0].lower() + tgt[k + 1][1:]
        assert continuations(document_features(tgt, tl))[k]
        al, verdict = judge(DOCS[doc]["vi"], tgt, tl)
        assert verdict.is_translation
        assert ((k,), (k, k + 1)) in {(b.source, b.target) for b in al.pairs}, tl


@pytest.mark.parametrize("tl", LANGS)
def test_a_moved_block_is_paired_where_it_went(tl):
    """A monotonic aligner leaves a moved block unmatched on both sides; the second pass pairs it.
    Across the six articles most moved pairs are found and nothing else is paired wrongly."""
    found = total = wrong = 0
    for doc in DOCS:
        src, tgt, gold = edited(doc, tl, ("reorder",))
        al, verdict = judge(src, tgt, tl)
        moved = {g for g in gold if g[1][0] - g[0][0] != 0}  # pairs off the diagonal
        pairs = {(b.source, b.target) for b in al.pairs}
        total += len(moved)
        found += len(moved & pairs)
        wrong += len(pairs - set(gold))
    assert found >= 0.6 * total, (found, total)
    assert wrong <= 2, wrong


def test_a_truncated_reference_keeps_its_last_pair():
    """The last paragraph of a truncated reference pairs with its own counterpart, not with the
    source's last paragraph (a missing tail is one event, so its paragraphs are cheap to skip).
    Over the 18 article pairs: the last pair is found in nearly all; at most a 5-sentence article
    cut to 4 (little evidence) goes wrong."""
    kept = runs = wrong = 0
    for tl in LANGS:
        for doc in DOCS:
            src, tgt, gold = edited(doc, tl, ("truncate",))
            al, _ = judge(src, tgt, tl)
            last = len(tgt) - 1
            runs += 1
            kept += ((last,), (last,)) in {(b.source, b.target) for b in al.pairs}
            wrong += len(wrong_pairs(al, gold))
            assert not [b for b in wrong_pairs(al, gold) if b.confidence >= 0.8], (tl, doc)
    assert kept >= runs - 3 and wrong <= 2, (kept, runs, wrong)


@pytest.mark.parametrize("tl", LANGS)
def test_blocks_swapped_with_one_of_the_same_size_are_put_back(tl):
    """Two adjacent blocks of two paragraphs swapped in the reference: lengths cannot tell the two
    orders apart and the monotonic path pairs the diagonal (every pair wrong), but the anchors of
    the whole document under the block-moved order (evalkit.align.moved.best_block_move) can."""
    right = total = 0
    for doc in DOCS:
        src = list(DOCS[doc]["vi"])
        tgt = list(DOCS[doc][tl])
        if len(tgt) < 8:  # a 5-sentence article with 4 swapped is a different article's order
            continue
        k = len(tgt) // 2 - 2
        order = list(range(len(tgt)))
        order[k:k + 4] = [k + 2, k + 3, k, k + 1]
        al, _ = judge(src, [tgt[x] for x in order], tl)
        gold = {((order[j],), (j,)) for j in range(len(order))}
        pairs = {(b.source, b.target) for b in al.pairs}
        total += 4
        right += sum(((order[j],), (j,)) in pairs for j in range(k, k + 4))
        assert not pairs - gold, (doc, sorted(pairs - gold))
    assert right >= total - 2, (right, total)
