"""Document-level verdict: is the target a translation of the source?

The score is the *confidence-weighted coverage* of the text: every character
counts with the confidence of the pair bead it sits in (0 if it is
unmatched); the better-covered side counts, because either document may be a
truncated copy (the Vietnamese pivot of the development corpus is).  Because bead confidences already include the document
parallelism evidence (see :mod:`evalkit.align.aligner`), an unrelated document scores
near 0 even when the DP found paragraphs of matching length, and a different
article about the same event (shared names, dates, acronyms) is rejected
because its paragraphs do not line up *in order* with the source and its
anchors (numbers, acronyms, shared names) disagree.

Weighting by characters rather than paragraphs keeps leftover boilerplate
("Leave a Reply", menus) from diluting the score.  Documents that only
partly overlap score roughly the overlapping fraction of the longer one.
"""

from __future__ import annotations

from typing import Sequence

from .aligner import N_SHUFFLES, analyse
from .types import Alignment, PairingVerdict

THRESHOLD = 0.5  # on the score; also the per-bead confidence that counts as "aligned"


def _chars(paragraph: str) -> int:
    return max(1, len(paragraph) - sum(c.isspace() for c in paragraph))


def _check(alignment: Alignment, n: int, m: int) -> None:
    src = sorted(i for b in alignment.beads for i in b.source)
    tgt = sorted(j for b in alignment.beads for j in b.target)
    if src != list(range(n)) or tgt != list(range(m)):
        raise ValueError(
            f"alignment does not cover the documents exactly once ({n} source / {m} target paragraphs)"
        )


def assess_translation(
    source: Sequence[str],
    target: Sequence[str],
    alignment: Alignment,
    source_lang: str,
    target_lang: str,
) -> PairingVerdict:
    """Decide whether ``target`` translates ``source`` given their alignment.

    ``alignment`` is normally the output of ``align_paragraphs`` on the same
    inputs.  The document-level parallelism evidence is recomputed (cached, so this
    costs nothing after ``align_paragraphs``) and caps the score, so an
    externally built alignment with over-confident beads cannot turn an
    unrelated pair into a translation.
    """
    n, m = len(source), len(target)
    if n == 0 or m == 0:
        side = "source" if n == 0 else "target"
        if n == 0 and m == 0:
            side = "source and target"
        return PairingVerdict(False, 0.0, f"{side} empty: nothing to align, so no evidence of a translation")
    _check(alignment, n, m)
    analysis = analyse(source, target, source_lang, target_lang)
    ev = analysis.evidence

    src_len = [_chars(p) for p in source]
    tgt_len = [_chars(p) for p in target]
    src_total, tgt_total = float(sum(src_len)), float(sum(tgt_len))
    src_weighted = tgt_weighted = 0.0
    confident_paras = confident_chars = 0
    for bead in alignment.beads:
        if not (bead.source and bead.target):
            continue
        s_chars = sum(src_len[i] for i in bead.source)
        src_weighted += bead.confidence * s_chars
        tgt_weighted += bead.confidence * sum(tgt_len[j] for j in bead.target)
        if bead.confidence >= THRESHOLD:
            confident_paras += len(bead.source)
            confident_chars += s_chars
    src_cov = src_weighted / src_total
    tgt_cov = tgt_weighted / tgt_total
    # Either side may be the truncated one (here the Vietnamese original stops
    # early), so coverage of the better-covered side counts; P(parallel)
    # caps it so that coverage by chance pairs cannot pass.
    coverage = max(src_cov, tgt_cov)
    score = max(0.0, min(1.0, coverage, ev.p_parallel))
    verdict = score >= THRESHOLD

    if ev.order_testable:
        evidence_txt = (
            f"in document order the alignment gains {ev.gain:.1f} nats over leaving everything unmatched "
            f"vs {ev.shuffled_mean:.1f} ± {ev.shuffled_sd:.1f} for {N_SHUFFLES} shuffled target orders "
            f"(z = {ev.z:.1f}) and the pairs' anchors agree by {ev.anchor_mean:+.2f} nats each, "
            f"so P(parallel) = {ev.p_parallel:.2f}"
        )
    else:
        evidence_txt = (
            f"too few paragraphs for an order test, so only the pairs' anchor agreement "
            f"({ev.anchor_mean:+.2f} nats each) counts: P(parallel) = {ev.p_parallel:.2f}"
        )
    reason = (
        f"{confident_paras} of {n} source paragraphs ({100.0 * confident_chars / src_total:.0f}% of the source text) "
        f"align with confidence >= {THRESHOLD:.1f}; confidence-weighted coverage {src_cov:.2f} of the source "
        f"and {tgt_cov:.2f} of the target, score {score:.2f} {'>=' if verdict else '<'} threshold {THRESHOLD:.2f}; "
        f"{evidence_txt}."
    )
    return PairingVerdict(verdict, float(score), reason)
