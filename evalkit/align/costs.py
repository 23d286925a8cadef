"""Bead costs: a Gale–Church length term plus translation-invariant anchors.

All costs are in nats (negative log-probabilities, up to constants), so they
can be added and turned into posteriors by the forward–backward pass in
:mod:`evalkit.align.dp`.

Length (Gale & Church 1993, "A program for aligning sentences in bilingual
corpora"): the target length of a translated unit is roughly ``c`` times the
source length with a variance proportional to the length.  Two departures
from the paper, both motivated by paragraphs rather than sentences:

* ``c`` and the variance ``s2`` are *estimated from the document pair* (see
  :func:`evalkit.align.aligner._reestimate`) instead of being fixed constants, because
  character ratios differ wildly between scripts (Thai/Vietnamese is close to
  1.0, Malay/Vietnamese about 1.13 on the development corpus) and a table of
  ratios would be tuned to whatever corpus it was built on;
* the normal tail is replaced by a Student-t tail: a real translation pair is
  sometimes 40% longer than expected (a translator expands a sentence), and a
  Gaussian would then rather skip both paragraphs than pair them.

Anchors (the idea of Bleualign/vecalign that some content is shared verbatim,
reduced to what needs no MT system or embeddings): numbers, acronyms, Latin
words copied into non-Latin text, quotation marks/parentheses, and names.
Agreement lowers the cost; anchors that appear on one side only raise it,
because translations keep numbers and acronyms, so a paragraph that has "27"
and "VTV" is unlikely to be the translation of one that has neither.  Names
count only when the *documents* share them ("Kishida", "Vo Van Thuong" occur
in both): capitalised words differ between languages for ordinary reasons
("Nhật Bản" / "Jepun"), but a name that demonstrably survives translation in
this document pair should appear on both sides of a bead.

Where a translation lexicon exists for the pair (:mod:`evalkit.align.lexicon`;
vi with th, ms, id, en are shipped), its word evidence is a further channel of
the same shape: a bead whose words have their translations on the other side
costs less, one whose words have none costs more (half as much: a miss is
weaker evidence than a hit).  Inside a run of ordinary sentences, where length
and anchors cannot tell a deleted sentence from half of a merge, it decides.

Boilerplate the cleaner missed is handled by a per-paragraph *pairing
penalty*: text in another script/accent profile than the document, repeated
text (duplicated captions, headlines shown twice) and very short lines cost
extra to pair, so leaving them unmatched (1-0/0-1) wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from evalkit.corpus.clean import boilerplate_reason

from .dp import Band
from .lexicon import Lexicon, lexical_channels
from .text import _WORD_RE, DocumentFeatures, ParagraphFeatures, profile_distance, script_profile, strip_diacritics

# Bead types (source paragraphs, target paragraphs), as in Gale & Church.
MOVES: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 1), (1, 0), (0, 1))

# Prior costs of bead types.  Gale & Church estimated P(1-1)=0.89,
# P(2-1)+P(1-2)=0.089, so a merge costs log(0.89/0.0445) ~ 3 nats over a 1-1.
MERGE_PRIOR = 3.0
# Leaving a paragraph unmatched, and opening a run of unmatched paragraphs
# (affine gaps, see :mod:`evalkit.align.dp`).  Inside a run of pairs, two skips
# plus a gap (5.5 nats) are what a 1-1 bead may cost before the DP prefers to
# leave both sides unmatched; with the t-tail below that is a length mismatch
# of ~5 standard deviations, less when anchors disagree or a side looks like
# boilerplate.
SKIP_COST = 2.0
GAP_OPEN = 1.5
# Skipping a paragraph of a missing tail (after the other document's last paragraph): a truncated
# translation lacks its tail as one event, so the tail's paragraphs cost a little less; otherwise the
# last target paragraph of a truncated pair is as likely to pair with the last source paragraph (one gap
# either way) as with its real counterpart.  (Dev split: truncation F1 0.991 -> 0.999; 1.0 would cost
# moved blocks at the end and the shipped corpus's raw vi-th title pair; heads are not cheap for the
# same reason.)
END_SKIP_COST = 1.5

# Gale & Church's variance per character; used as the prior for ``s2``.
GC_VARIANCE = 6.8
# Degrees of freedom of the Student-t length term.
T_DOF = 4.0
# Pseudo-length added to the variance so that very short lines (titles,
# captions) are not judged with an absurdly tight tolerance.
LENGTH_FLOOR = 20.0

# Anchor weights (nats per unit of anchor weight) and caps.
ANCHOR_MATCH = 2.0
ANCHOR_MISS = 1.0
NAME_MATCH = 1.0
NAME_MISS = 0.5
MARK_WEIGHT = 0.5  # quotes/parentheses: weaker than a number
# Latin words in Thai text that the other side lacks: Thai keeps English names ("Sky Blues", "Premier
# League") that a Vietnamese or Malay translation of the same English original translates, so a miss is
# weak evidence (a match stays strong).
FOREIGN_WORD_MISS = 0.3
MAX_ANCHOR_BONUS = 8.0
MAX_ANCHOR_PENALTY = 6.0
MAX_NAME_BONUS = 3.0
MAX_NAME_PENALTY = 3.0

# Translation-lexicon evidence (:mod:`evalkit.align.lexicon`): a naive-Bayes log-likelihood ratio over
# the words of both sides, scaled down because the words of a sentence are not independent evidence.
LEX_WEIGHT = 0.5
# An absent translation is weaker evidence than a present one: p_hit was measured on the lexicon's own
# kind of text, and a translator elsewhere words things differently ("Chủ tịch nước" is not "tổng thống").
LEX_MISS_SCALE = 0.5
MAX_LEX_BONUS = 8.0
MAX_LEX_PENALTY = 3.0

# Pairing penalties for boilerplate-looking paragraphs.
PROFILE_TOLERANCE = 0.08  # total-variation distance still considered "normal"
PROFILE_WEIGHT = 25.0
MAX_PROFILE_PENALTY = 6.0
DUPLICATE_PENALTY = 2.5
SHORT_FRACTION = 0.08  # of the document's typical paragraph length
SHORT_WEIGHT = 2.0
EMPTY_PENALTY = 20.0  # an empty paragraph carries no evidence: never pair it
# A paragraph the cleaning rules call site chrome ("Xem thêm: ...", a date line)
# when the aligner sees it anyway (raw lines, cleaning off): pairing it needs
# strong evidence.
CHROME_PENALTY = 6.0
# Lopsided merges: in a 1-2/2-1 bead whose smaller part is under this share of
# the group's length, the length term cannot tell "merged" from "one paragraph
# plus a stray line", and a stray line is the likelier (it is how a 'Xem thêm'
# line or a share button got glued into a pair); each halving below costs this much.
SMALL_PART_FRACTION = 0.25
SMALL_PART_WEIGHT = 1.5
# A paragraph that stops without closing its sentence (no final punctuation, or a comma) followed by one
# that starts in lower case is one sentence broken in two (a scraper's or an editor's line break): merging
# the two costs this much less than an ordinary 1-2/2-1 bead.  Only scripts with letter case show it.
CONTINUATION_BONUS = 2.5
_SENTENCE_END = frozenset(".!?…。！？:;\"”’'»)]")


@dataclass(frozen=True)
class LengthParams:
    """Expected target/source character ratio and variance per character."""

    ratio: float
    variance: float


def length_cost(ls: np.ndarray | float, lt: np.ndarray | float, params: LengthParams) -> np.ndarray:
    """Gale–Church delta with a symmetric variance and a Student-t tail.

    delta = (lt - c*ls) / sqrt(s2 * (mean(ls, lt/c) + floor)); using the mean
    of both sides (rather than ls alone, as in the paper) keeps the cost
    symmetric, and the floor keeps it sane when one side is empty or tiny.
    The cost is the Student-t negative log-density (up to a constant).
    """
    ls = np.asarray(ls, dtype=float)
    lt = np.asarray(lt, dtype=float)
    c = params.ratio
    scale = params.variance * 0.5 * (ls + lt / c) + params.variance * LENGTH_FLOOR
    delta = (lt - c * ls) / np.sqrt(scale)
    return 0.5 * (T_DOF + 1.0) * np.log1p(delta * delta / T_DOF)


def shared_latin_words(src: DocumentFeatures, tgt: DocumentFeatures) -> frozenset[str]:
    """Latin words (folded) that both documents contain: in a non-Latin-script
    document these are names and terms copied from the original ("Fugees",
    "Premier League"), not text in a foreign language."""
    if src.latin and tgt.latin:
        return frozenset()
    return frozenset().union(*(p.words for p in src.paragraphs)) & frozenset().union(*(p.words for p in tgt.paragraphs))


def _profiles_without(doc: DocumentFeatures, words: frozenset[str]) -> tuple[list, dict]:
    """Paragraph and document script profiles of a non-Latin-script document
    with ``words`` (Latin names the other document shares) taken out."""
    profiles = []
    total: dict[str, float] = {}
    for p in doc.paragraphs:
        prof = p.profile
        if p.text and p.words & words:
            folded = strip_diacritics(p.text)
            prof = script_profile(_WORD_RE.sub(lambda mo: "" if mo.group().lower() in words else mo.group(), folded))
        profiles.append(prof)
        for k, v in prof.items():
            total[k] = total.get(k, 0.0) + v * p.length
    norm = sum(total.values())
    return profiles, ({k: v / norm for k, v in total.items()} if norm else dict(doc.profile))


def pairing_penalties(doc: DocumentFeatures, shared_words: frozenset[str] = frozenset()) -> np.ndarray:
    """Extra cost for putting each paragraph into a pair (boilerplate prior).

    ``shared_words``: Latin words the other document also has; in a
    non-Latin-script document they do not count as foreign script (Thai news
    keeps English names, which the Vietnamese translation of the same original
    also keeps), neither in a paragraph's profile nor in the document's."""
    out = np.zeros(len(doc.paragraphs))
    ref = SHORT_FRACTION * doc.content_median
    if not doc.latin and shared_words:
        profiles, doc_profile = _profiles_without(doc, shared_words)
    else:
        profiles, doc_profile = [p.profile for p in doc.paragraphs], doc.profile
    for k, p in enumerate(doc.paragraphs):
        d = profile_distance(profiles[k], doc_profile)
        pen = min(MAX_PROFILE_PENALTY, PROFILE_WEIGHT * max(0.0, d - PROFILE_TOLERANCE))
        if doc.duplicated[k]:
            pen += DUPLICATE_PENALTY
        if ref > 0 and p.length < ref:
            pen += SHORT_WEIGHT * math.log(ref / max(p.length, 1))
        if p.length == 0:
            pen += EMPTY_PENALTY
        if p.text and boilerplate_reason(p.text) is not None:
            pen += CHROME_PENALTY
        out[k] = pen
    return out


def _first_letter(text: str) -> str:
    for ch in text:
        if ch.isalpha():
            return ch
    return ""


def continuations(doc: DocumentFeatures) -> np.ndarray:
    """``out[k]``: paragraph k+1 continues the sentence paragraph k left open
    (k ends without sentence punctuation or with a comma, k+1 starts with a
    lower-case letter).  Length ``max(1, n)`` so it can be indexed safely."""
    paras = doc.paragraphs
    out = np.zeros(max(1, len(paras)), dtype=bool)
    for k in range(len(paras) - 1):
        a, b = paras[k].text.rstrip(), paras[k + 1].text
        if a and b and (a[-1] == "," or a[-1] not in _SENTENCE_END) and _first_letter(b).islower():
            out[k] = True
    return out


class AnchorScorer:
    """Anchor agreement between groups of consecutive source and target paragraphs.

    Anchors are weighted by ``1/sqrt(document frequency)`` (the larger of the
    two documents' counts): a name that is in every paragraph ("Japan" in an
    article about Japan) says little about which paragraphs correspond.

    A group of paragraphs (a 1-2/2-1 bead side) has the union of their
    anchors.  :meth:`block` scores every bead over a source and a target
    *sequence* of paragraphs (a contiguous window for the banded DP, a
    shuffled order for the order test); the weighted overlaps are matrix
    products over the anchors the two sequences share (anchors on one side
    only add to the miss totals, which are sums), so the cost of a block does
    not grow with the documents' vocabulary.
    """

    def __init__(self, src: DocumentFeatures, tgt: DocumentFeatures, lexicon: Lexicon | None = None):
        # Latin words inside a non-Latin-script document were copied from the
        # original, so they are strong anchors there (and only there).
        self.src_foreign = not src.latin
        self.tgt_foreign = not tgt.latin
        self.names = src.latin and tgt.latin
        df_src = _doc_freq(src.paragraphs)
        df_tgt = _doc_freq(tgt.paragraphs)

        strong_vocab: dict[tuple[str, str], int] = {}
        word_vocab: dict[str, int] = {}
        for doc in (src, tgt):
            for p in doc.paragraphs:
                for x in p.numbers:
                    strong_vocab.setdefault(("num", x), len(strong_vocab))
                for x in p.acronyms:
                    strong_vocab.setdefault(("acr", x), len(strong_vocab))
                for x in p.marks:
                    strong_vocab.setdefault(("mark", x), len(strong_vocab))
                for x in p.words:
                    if len(x) >= 2:
                        word_vocab.setdefault(x, len(word_vocab))

        def weight(kind: str, token: str) -> float:
            key = (kind, token)
            df = max(df_src.get(key, 0), df_tgt.get(key, 0), 1)
            base = 1.0
            if kind == "mark" or (kind == "num" and len(token.replace(".", "")) == 1):
                base = MARK_WEIGHT  # single digits (months, counts) and quote marks are weak
            return base / math.sqrt(df)

        self.w_strong = np.array([weight(k, t) for (k, t) in strong_vocab]) if strong_vocab else np.zeros(0)
        self.w_word = np.array([weight("word", t) for t in word_vocab]) if word_vocab else np.zeros(0)

        # names shared by the two documents: capitalised mid-sentence somewhere
        # and present (in any case) on both sides
        all_names = set().union(*(p.names for d in (src, tgt) for p in d.paragraphs))
        src_words = set().union(*(p.words for p in src.paragraphs))
        tgt_words = set().union(*(p.words for p in tgt.paragraphs))
        shared = np.zeros(len(word_vocab))
        for x in all_names & src_words & tgt_words:
            if x in word_vocab:
                shared[word_vocab[x]] = 1.0
        self.w_name = self.w_word * shared

        def ids(doc: DocumentFeatures) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
            strong, words, names = [], [], []
            for p in doc.paragraphs:
                s = [strong_vocab[("num", x)] for x in p.numbers] + [strong_vocab[("acr", x)] for x in p.acronyms]
                s += [strong_vocab[("mark", x)] for x in p.marks]
                w = sorted(word_vocab[x] for x in p.words if x in word_vocab)
                strong.append(np.array(sorted(s), dtype=np.int64))
                words.append(np.array(w, dtype=np.int64))
                names.append(np.array([x for x in w if shared[x]], dtype=np.int64))
            return strong, words, names

        self.src_ids = ids(src)
        self.tgt_ids = ids(tgt)
        self.channels = tuple(
            _ChannelTotals(s_ids, t_ids, w)
            for s_ids, t_ids, w in zip(self.src_ids, self.tgt_ids, (self.w_strong, self.w_word, self.w_name))
        )
        # translation lexicon, both directions: (source words, their translations in the target) with the
        # misses summed on the source side, and (translations in the source, target words) on the target side
        self.lexicon = lexicon
        self.lex_channels: tuple[_ChannelTotals, _ChannelTotals] | None = None
        if self.lexicon is not None:
            fwd, bwd = lexical_channels(self.lexicon, [p.lexemes for p in src.paragraphs],
                                        [p.lexemes for p in tgt.paragraphs], [p.text for p in src.paragraphs],
                                        [p.text for p in tgt.paragraphs])
            # overlap weight = the hit's evidence plus the miss it avoids, so a present translation scores
            # log(p/q) and an absent one costs LEX_MISS_SCALE * log((1-q)/(1-p))
            f_miss, b_miss = LEX_MISS_SCALE * fwd.miss, LEX_MISS_SCALE * bwd.miss
            f_hit, b_hit = fwd.hit + f_miss, bwd.hit + b_miss
            self.lex_channels = (
                _ChannelTotals(fwd.defining, fwd.covering, f_hit, w_src=f_miss, w_tgt=np.zeros_like(f_miss)),
                _ChannelTotals(bwd.covering, bwd.defining, b_hit, w_src=np.zeros_like(b_miss), w_tgt=b_miss),
            )

    def window(self, s_seq: np.ndarray, t_seq: np.ndarray) -> "AnchorWindow":
        """Anchor data of a source and a target sequence of paragraphs, ready
        to score every bead over them, in this target order or a permutation."""
        return AnchorWindow(self, np.asarray(s_seq, dtype=np.int64), np.asarray(t_seq, dtype=np.int64))

    def block(self, di: int, dj: int, s_seq: np.ndarray, t_seq: np.ndarray) -> np.ndarray:
        """Anchor cost of every bead over the sequences: source ``s_seq[a:a+di]``
        with target ``t_seq[b:b+dj]``, shape (len(s_seq)-di+1, len(t_seq)-dj+1)."""
        return self.window(s_seq, t_seq).costs(di, dj)

    def matrix(self, di: int, dj: int) -> np.ndarray:
        """Anchor cost of every bead covering source ``i:i+di`` and target
        ``j:j+dj`` of the whole documents, shape (n-di+1, m-dj+1)."""
        return self.block(di, dj, np.arange(len(self.src_ids[0])), np.arange(len(self.tgt_ids[0])))

    def cost(self, src_idx: Sequence[int], tgt_idx: Sequence[int], lexical: bool = True) -> float:
        """Anchor cost of one bead (consecutive indices); ``lexical=False`` leaves the lexicon out (the
        document verdict's anchor agreement: two articles on one topic share vocabulary, not anchors)."""
        win = self.window(np.asarray(src_idx), np.asarray(tgt_idx))
        return float(win.costs(len(src_idx), len(tgt_idx), lexical=lexical)[0, 0])


class _Channel:
    """One kind of anchor (strong / Latin words / names) over a window: 0/1
    rows over the anchors both sides share (for overlaps), each paragraph's
    total weight, and overlaps of neighbouring paragraphs (for the totals of
    2-paragraph groups; every two target paragraphs when the order is shuffled)."""

    def __init__(self, glob: "_ChannelTotals", s_seq: np.ndarray, t_seq: np.ndarray):
        self.glob, self.t_seq = glob, t_seq
        src_ids = [glob.src[x] for x in s_seq]
        tgt_ids = [glob.tgt[x] for x in t_seq]
        self.tgt_ids = tgt_ids
        w = glob.w
        s_all = np.concatenate(src_ids) if src_ids else np.zeros(0, dtype=np.int64)
        t_all = np.concatenate(tgt_ids) if tgt_ids else np.zeros(0, dtype=np.int64)
        common = np.intersect1d(s_all, t_all)
        self.s_tot = glob.s_tot[s_seq]
        self.t_tot = glob.t_tot[t_seq]
        self.s_adj = glob.s_adj[s_seq[:-1]] if len(s_seq) > 1 else np.zeros(0)
        self.t_adj = glob.t_adj[t_seq[:-1]] if len(t_seq) > 1 else np.zeros(0)
        self.wc = w[common] if len(common) else np.zeros(0)
        self.s_rows = _dense(src_ids, common, len(w))
        self.t_rows = _dense(tgt_ids, common, len(w))
        self._t_pair: np.ndarray | None = None

    def t_pair(self) -> np.ndarray:
        """Overlap of every two target paragraphs of the window (shuffled orders only)."""
        if self._t_pair is None:
            w = self.glob.w_tgt
            t_all = np.concatenate(self.tgt_ids) if self.tgt_ids else np.zeros(0, dtype=np.int64)
            vocab = np.unique(t_all)
            full = _dense(self.tgt_ids, vocab, len(w))
            self._t_pair = (full * (w[vocab] if len(vocab) else 0.0)) @ full.T
        return self._t_pair

    def source(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        if size == 1:
            return self.s_rows, self.s_tot
        return np.maximum(self.s_rows[:-1], self.s_rows[1:]), self.s_tot[:-1] + self.s_tot[1:] - self.s_adj

    def target(self, size: int, perm: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if perm is None:
            rows, tot = self.t_rows, self.t_tot
        else:
            rows, tot = self.t_rows[perm], self.t_tot[perm]
        if size == 1:
            return rows, tot
        adj = self.t_adj if perm is None else self.t_pair()[perm[:-1], perm[1:]]
        return np.maximum(rows[:-1], rows[1:]), tot[:-1] + tot[1:] - adj

    def overlap(self, di: int, dj: int, perm: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s_rows, s_tot = self.source(di)
        t_rows, t_tot = self.target(dj, perm)
        return (s_rows * self.wc) @ t_rows.T, s_tot, t_tot


def _dense(ids: list[np.ndarray], vocab: np.ndarray, size: int) -> np.ndarray:
    mat = np.zeros((len(ids), len(vocab)))
    if not len(vocab):
        return mat
    local = np.full(size, -1, dtype=np.int64)
    local[vocab] = np.arange(len(vocab))
    for r, g in enumerate(ids):
        lg = local[g]
        mat[r, lg[lg >= 0]] = 1.0
    return mat


class _ChannelTotals:
    """Per-document data of one anchor kind: each paragraph's anchor ids and
    total weight, and the overlap of each paragraph with the next."""

    def __init__(self, src: list[np.ndarray], tgt: list[np.ndarray], w: np.ndarray,
                 w_src: np.ndarray | None = None, w_tgt: np.ndarray | None = None):
        """``w`` weighs the overlaps; ``w_src``/``w_tgt`` the per-side totals (default ``w``: an anchor
        counts the same matched or missing; a lexicon word does not)."""
        self.src, self.tgt, self.w = src, tgt, w
        self.w_src = w if w_src is None else w_src
        self.w_tgt = w if w_tgt is None else w_tgt

        def totals(ids: list[np.ndarray], wt: np.ndarray) -> np.ndarray:
            return np.array([wt[g].sum() for g in ids]) if len(wt) else np.zeros(len(ids))

        def adjacent(ids: list[np.ndarray], wt: np.ndarray) -> np.ndarray:
            if not len(wt):
                return np.zeros(max(0, len(ids) - 1))
            return np.array([wt[np.intersect1d(ids[k], ids[k + 1], assume_unique=True)].sum()
                             for k in range(len(ids) - 1)])

        self.s_tot, self.t_tot = totals(src, self.w_src), totals(tgt, self.w_tgt)
        self.s_adj, self.t_adj = adjacent(src, self.w_src), adjacent(tgt, self.w_tgt)


class AnchorWindow:
    """Anchor costs of every bead over a source and a target sequence (see :class:`AnchorScorer`)."""

    def __init__(self, scorer: AnchorScorer, s_seq: np.ndarray, t_seq: np.ndarray):
        self.scorer = scorer
        self.b = len(t_seq)
        self.strong = _Channel(scorer.channels[0], s_seq, t_seq)
        self.words = _Channel(scorer.channels[1], s_seq, t_seq) if scorer.src_foreign or scorer.tgt_foreign else None
        self.names = _Channel(scorer.channels[2], s_seq, t_seq) if scorer.names else None
        self.lex = tuple(_Channel(ch, s_seq, t_seq) for ch in scorer.lex_channels) if scorer.lex_channels else ()

    def costs(self, di: int, dj: int, perm: np.ndarray | None = None, lexical: bool = True) -> np.ndarray:
        """Shape (len(s_seq)-di+1, len(t_seq)-dj+1); ``perm`` reorders the target sequence."""
        sc = self.scorer
        match, s_tot, t_tot = self.strong.overlap(di, dj, perm)
        miss = s_tot[:, None] + t_tot[None, :] - 2.0 * match
        if self.words is not None:
            shared, sw_tot, tw_tot = self.words.overlap(di, dj, perm)
            if sc.tgt_foreign:  # target's Latin words must come from the source
                match = match + shared
                miss = miss + FOREIGN_WORD_MISS * (tw_tot[None, :] - shared)
            if sc.src_foreign:
                match = match + shared
                miss = miss + FOREIGN_WORD_MISS * (sw_tot[:, None] - shared)
        cost = -np.minimum(MAX_ANCHOR_BONUS, ANCHOR_MATCH * match) + np.minimum(
            MAX_ANCHOR_PENALTY, ANCHOR_MISS * np.maximum(miss, 0.0)
        )
        if self.names is not None:
            n_match, ns_tot, nt_tot = self.names.overlap(di, dj, perm)
            n_miss = ns_tot[:, None] + nt_tot[None, :] - 2.0 * n_match
            cost = cost - np.minimum(MAX_NAME_BONUS, NAME_MATCH * n_match)
            cost = cost + np.minimum(MAX_NAME_PENALTY, NAME_MISS * np.maximum(n_miss, 0.0))
        if self.lex and lexical:
            (f_hit, f_miss, _), (b_hit, _, b_miss) = (ch.overlap(di, dj, perm) for ch in self.lex)
            lex = f_miss[:, None] + b_miss[None, :] - f_hit - b_hit
            cost = cost + np.clip(LEX_WEIGHT * lex, -MAX_LEX_BONUS, MAX_LEX_PENALTY)
        return cost



def _doc_freq(paras: Sequence[ParagraphFeatures]) -> dict[tuple[str, str], int]:
    """In how many paragraphs each anchor occurs (names are counted as words)."""
    df: dict[tuple[str, str], int] = {}
    for p in paras:
        keys = (
            {("num", x) for x in p.numbers}
            | {("acr", x) for x in p.acronyms}
            | {("mark", x) for x in p.marks}
            | {("word", x) for x in p.words}
        )
        for k in keys:
            df[k] = df.get(k, 0) + 1
    return df


PAIR_MOVES: tuple[tuple[int, int], ...] = tuple(mv for mv in MOVES if mv[0] and mv[1])
BAND_CHUNK = 64  # rows per block when filling a band (bounds the block's size and vocabulary)


def _group_sums(values: np.ndarray, seq: np.ndarray, size: int) -> np.ndarray:
    v = values[seq]
    return np.convolve(v, np.ones(size))[size - 1 : len(v)] if len(v) >= size else np.zeros(0)


class CostModel:
    """Every bead cost of one document pair, computed on demand for a block,
    a band or a shuffled order (so nothing of size n x m is ever built).

    A bead's cost is its *static* part (bead prior, anchors, boilerplate
    penalties), which does not depend on the length parameters, plus the
    length term of the group lengths (:func:`length_cost`).
    """

    def __init__(self, src: DocumentFeatures, tgt: DocumentFeatures, lexicon: Lexicon | None = None):
        """``lexicon``: translation lexicon for the pair (:mod:`evalkit.align.lexicon`), or None."""
        self.n, self.m = len(src.paragraphs), len(tgt.paragraphs)
        self.scorer = AnchorScorer(src, tgt, lexicon)
        shared = shared_latin_words(src, tgt)
        self.pen_s = pairing_penalties(src, shared)
        self.pen_t = pairing_penalties(tgt, shared)
        self.len_s = np.array([p.length for p in src.paragraphs], dtype=float)
        self.len_t = np.array([p.length for p in tgt.paragraphs], dtype=float)
        self.cont_s = continuations(src)
        self.cont_t = continuations(tgt)

    @staticmethod
    def _side_pen(pen: np.ndarray, lens: np.ndarray, seq: np.ndarray, size: int, cont: np.ndarray) -> np.ndarray:
        """Pairing penalties of each group of ``size`` consecutive paragraphs of
        ``seq``, plus the lopsided-merge penalty for 2-paragraph groups, less the
        continuation bonus where the second paragraph continues the first's sentence."""
        out = _group_sums(pen, seq, size)
        if size == 2 and len(seq) >= 2:
            a, b = lens[seq[:-1]], lens[seq[1:]]
            frac = np.minimum(a, b) / np.maximum(a + b, 1.0)
            out = out + SMALL_PART_WEIGHT * np.maximum(0.0, np.log(SMALL_PART_FRACTION / np.maximum(frac, 1e-3)))
            follows = seq[1:] == seq[:-1] + 1  # in a shuffled order only true neighbours continue
            out = out - CONTINUATION_BONUS * (follows & cont[np.minimum(seq[:-1], len(cont) - 1)])
        return out

    def block(self, di: int, dj: int, s_seq: np.ndarray, t_seq: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(static, anchor, source group lengths, target group lengths) of every
        bead over the sequences; static/anchor have shape (A, B) with
        A = len(s_seq)-di+1, B = len(t_seq)-dj+1."""
        prior = 0.0 if (di, dj) == (1, 1) else MERGE_PRIOR
        an = self.scorer.block(di, dj, s_seq, t_seq)
        static = prior + an + self._side_pen(self.pen_s, self.len_s, s_seq, di, self.cont_s)[:, None] + self._side_pen(self.pen_t, self.len_t, t_seq, dj, self.cont_t)[None, :]
        return static, an, _group_sums(self.len_s, s_seq, di), _group_sums(self.len_t, t_seq, dj)

    def band_costs(self, band: Band) -> "BandCosts":
        n, m, w = band.n, band.m, band.width
        static = {mv: np.full((n + 1, w), np.inf) for mv in PAIR_MOVES}
        cols_all = band.columns()
        for r0 in range(0, n, BAND_CHUNK):
            r1 = min(n, r0 + BAND_CHUNK)  # bead start rows r0..r1-1
            c0 = int(band.lo[r0])
            cmax = int(band.hi[r0:r1].max())
            s_seq = np.arange(r0, min(n, r1 + 1))
            t_seq = np.arange(c0, min(m, cmax + 2))
            if not len(t_seq):
                continue
            win = self.scorer.window(s_seq, t_seq)
            cols = cols_all[r0:r1]
            inside = cols <= band.hi[r0:r1, None]
            for di, dj in PAIR_MOVES:
                a_rows, b_cols = len(s_seq) - di + 1, len(t_seq) - dj + 1
                if a_rows <= 0 or b_cols <= 0:
                    continue
                prior = 0.0 if (di, dj) == (1, 1) else MERGE_PRIOR
                blk = (prior + win.costs(di, dj) + self._side_pen(self.pen_s, self.len_s, s_seq, di, self.cont_s)[:, None]
                       + self._side_pen(self.pen_t, self.len_t, t_seq, dj, self.cont_t)[None, :])
                rr = np.arange(r1 - r0)[:, None]
                bj = cols - c0
                ok = inside & (bj < b_cols) & (rr < a_rows)
                vals = blk[np.minimum(rr, a_rows - 1), np.clip(bj, 0, b_cols - 1)]
                static[(di, dj)][r0:r1] = np.where(ok, vals, np.inf)
        ls, lt = {}, {}
        for di, dj in PAIR_MOVES:
            row_len = np.zeros(n + 1)
            row_len[: n - di + 1] = np.convolve(self.len_s, np.ones(di))[di - 1 : n]
            col_len = np.zeros(m + 1)
            col_len[: m - dj + 1] = np.convolve(self.len_t, np.ones(dj))[dj - 1 : m]
            ls[(di, dj)] = row_len
            lt[(di, dj)] = col_len
        return BandCosts(band, static, ls, lt)

    def full_costs(self) -> "BandCosts":
        return self.band_costs(Band.full(self.n, self.m))

    def shuffled_costs(self, s_seq: np.ndarray, t_seq: np.ndarray, perms: Sequence[np.ndarray],
                       params: LengthParams) -> dict[tuple[int, int], np.ndarray]:
        """Pair-bead costs ``(K, A+1, B+1)`` of the source window against K
        orders of the target window (``t_seq[perm]``): the order test."""
        a, b = len(s_seq), len(t_seq)
        win = self.scorer.window(s_seq, t_seq)
        out = {}
        for di, dj in PAIR_MOVES:
            arr = np.full((len(perms), a + 1, b + 1), np.inf)
            if a >= di and b >= dj:
                prior = 0.0 if (di, dj) == (1, 1) else MERGE_PRIOR
                rows = prior + self._side_pen(self.pen_s, self.len_s, s_seq, di, self.cont_s)[:, None]
                gs = _group_sums(self.len_s, s_seq, di)[:, None]
                for k, perm in enumerate(perms):
                    order = t_seq[perm]
                    cols = self._side_pen(self.pen_t, self.len_t, order, dj, self.cont_t)[None, :]
                    gt = _group_sums(self.len_t, order, dj)[None, :]
                    with np.errstate(invalid="ignore"):
                        arr[k, : a - di + 1, : b - dj + 1] = rows + cols + win.costs(di, dj, perm) + length_cost(gs, gt, params)
            out[(di, dj)] = arr
        return out


@dataclass(frozen=True)
class BandCosts:
    """Static bead costs inside a band (``static[move][i, k]`` = bead starting at
    ``(i, lo[i] + k)``) and the group lengths the length term needs."""

    band: Band
    static: dict[tuple[int, int], np.ndarray]
    ls: dict[tuple[int, int], np.ndarray]  # (n+1,) source group length per start row
    lt: dict[tuple[int, int], np.ndarray]  # (m+1,) target group length per start column

    def with_lengths(self, params: LengthParams) -> dict[tuple[int, int], np.ndarray]:
        band = self.band
        cols = band.columns()
        valid = band.valid()
        safe = np.minimum(cols, band.m)
        out = {}
        for mv in PAIR_MOVES:
            with np.errstate(invalid="ignore"):
                out[mv] = self.static[mv] + length_cost(self.ls[mv][:, None], self.lt[mv][safe], params)
        rows = np.arange(band.n + 1)[:, None]
        # a paragraph after the other side's last is part of a missing tail: one event, each paragraph costs less
        src_end = cols == band.m
        tgt_end = rows == band.n
        out[(1, 0)] = np.where(valid & (rows < band.n), np.where(src_end, END_SKIP_COST, SKIP_COST), np.inf)
        out[(0, 1)] = np.where(valid & (cols < band.m), np.where(tgt_end, END_SKIP_COST, SKIP_COST), np.inf)
        return out

    def lengths(self, step: tuple[int, int, int, int]) -> tuple[float, float]:
        i, j, di, dj = step
        return float(self.ls[(di, dj)][i]), float(self.lt[(di, dj)][j])
