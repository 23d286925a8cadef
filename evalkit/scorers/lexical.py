"""chrF, chrF++, BLEU and TER, computed by sacrebleu (Post, 2018).

sacrebleu does the arithmetic and its signature is kept verbatim; evalkit only
adds what it changed on the way in (word segmentation for languages without
spaces) and its own version. BLEU at paragraph level uses sacrebleu's
recommended sentence settings (exponential smoothing, effective order), which
are reported in the paragraph signature because they differ from the corpus ones.

Sufficient statistics are sacrebleu's own per-segment statistics of the corpus
metric (BLEU: hyp/ref lengths and n-gram matches/totals; chrF: hyp/ref/match
counts per n-gram order; TER: edits and reference length), extracted from the
same segmented texts as `corpus_score`. sacrebleu 2.6 aggregates all three by a
plain column sum (`utils.sum_of_lists`), so summed rows reproduce its corpus
score exactly; every column is an integer count (TER's reference length is an
integer divided by the single reference count), so float64 sums are exact.
"""

from __future__ import annotations

import numpy as np

from evalkit import __version__
from evalkit.errors import MetricUnavailableError
from evalkit.hf_models import first_line
from evalkit.scorers.base import Scorer
from evalkit.scorers.sacrebleu_batch import metric_scores
from evalkit.scorers.segment import SACREBLEU_TOKENIZERS, segmenter


class _SacrebleuScorer(Scorer):
    chunkable = True
    word_based = True  # False: the metric ignores whitespace, so segmentation cannot change it

    def __init__(self, target_lang: str, options=None, source_lang: str | None = None) -> None:
        super().__init__(target_lang, options, source_lang)
        self._memo_key: tuple | None = None
        self._memo: list[list] | None = None
        found = segmenter(target_lang) if self.word_based else None
        self._segment, self._segment_signature = found if found else (None, None)
        self._unavailable: str | None = None
        try:
            self._metric = self._make(sentence=False)
            self._sentence_metric = self._make(sentence=True)
        except (RuntimeError, ImportError) as exc:
            # sacrebleu's Japanese/Korean tokenizers need MeCab extras; without them the
            # metric is unavailable for this language and the run goes on without it.
            extra = {"ja": "sacrebleu[ja]", "ko": "sacrebleu[ko]"}.get(target_lang, "sacrebleu's tokenizer extras")
            self._unavailable = f"{self.name} for {target_lang!r} needs {extra} (pip install '{extra}'): {first_line(exc)}"
            return
        # sacrebleu learns the reference count on first use; evalkit always scores
        # against exactly one human reference, so the signature is known up front.
        self._metric.num_refs = self._sentence_metric.num_refs = 1

    def load(self) -> None:
        if self._unavailable:
            raise MetricUnavailableError(self._unavailable)

    def _make(self, sentence: bool):
        raise NotImplementedError

    def _prepare(self, texts: list[str]) -> list[str]:
        return [self._segment(t) for t in texts] if self._segment else texts

    def _corpus(self, candidates: list[str], references: list[str], sources=None) -> float:
        return self._metric.corpus_score(self._prepare(candidates), [self._prepare(references)]).score

    def _paragraphs(self, candidates: list[str], references: list[str], sources=None) -> list[float]:
        # sacrebleu's sentence_score is _compute_score_from_stats of the segment's statistics, which are the
        # corpus metric's (same tokenizer, same n-gram orders; only the score settings differ): deriving
        # paragraph scores from the rows already extracted halves the scoring time and changes no number.
        score = self._sentence_metric._compute_score_from_stats
        return [score(list(row)).score for row in self._raw_statistics(candidates, references)]

    def paragraph_scores_from_statistics(self, stats: np.ndarray) -> list[float]:
        # integer counts stored as float64 are exact, and sacrebleu's arithmetic gives the same result on them
        score = self._sentence_metric._compute_score_from_stats
        return [score(row).score for row in np.asarray(stats, dtype=np.float64).tolist()]

    def _statistics(self, candidates: list[str], references: list[str], sources=None) -> list[list[float]]:
        return self._raw_statistics(candidates, references)

    def _raw_statistics(self, candidates: list[str], references: list[str]) -> list[list]:
        """sacrebleu's per-segment statistics, extracted once for the statistics and the paragraph scores."""
        key = (tuple(candidates), tuple(references))
        if self._memo_key != key:
            self._memo_key, self._memo = None, None  # never a stale memo if extraction fails
            self._memo = self._metric._extract_corpus_statistics(self._prepare(candidates), [self._prepare(references)])
            self._memo_key = key
        return self._memo

    def _score_from_statistics(self, summed: np.ndarray) -> float:
        # A fresh Python list per call: sacrebleu's BLEU edits its `correct` list in
        # place for add-k smoothing, and Python numbers keep its arithmetic identical
        # to `corpus_score` (numpy float32 scalars would not).
        return self._metric._compute_score_from_stats(summed.tolist()).score

    def _scores_from_statistics(self, sums: np.ndarray) -> np.ndarray:
        # The same arithmetic on all rows at once, bit-identical to the line above (see sacrebleu_batch).
        found = metric_scores(self._metric, sums)
        return found if found is not None else super()._scores_from_statistics(sums)

    def _extend(self, sacrebleu_signature: str) -> str:
        pretok = f"|pretok:{self._segment_signature}" if self._segment_signature else ""
        return f"{sacrebleu_signature}{pretok}|evalkit:{__version__}"

    def signature(self) -> str:
        return self._extend(str(self._metric.get_signature()))

    def paragraph_signature(self) -> str:
        return self._extend(str(self._sentence_metric.get_signature()))


class ChrfScorer(_SacrebleuScorer):
    name = "chrf"
    in_default_set = True
    # Calibrated (benchmarks/gate_calibration.py): benign edits move a 16-paragraph document's chrF by up to
    # ~3 points; with BLEU/TER/chrF++ ungated by default, false alarms fell from 67% to 3% at 99% detection.
    gate_margin = 3.0
    word_based = False

    def _make(self, sentence: bool):
        from sacrebleu.metrics import CHRF

        return CHRF()


class ChrfPlusPlusScorer(_SacrebleuScorer):
    name = "chrf++"
    in_default_set = True
    gate_margin = None  # not gated by default: it catches nothing chrF and numbers miss (measured); configurable

    def _make(self, sentence: bool):
        from sacrebleu.metrics import CHRF

        return CHRF(word_order=2)


class BleuScorer(_SacrebleuScorer):
    name = "bleu"
    in_default_set = True
    gate_margin = None  # moved up to 26 points on benign edits of short documents (measured); configurable

    def _make(self, sentence: bool):
        from sacrebleu.metrics import BLEU

        tokenize = SACREBLEU_TOKENIZERS.get(self.target_lang, "13a")
        # force: evalkit's own word segmentation (Thai) leaves " ." at sentence ends, which sacrebleu would
        # take for forgotten detokenization and warn about on every 100 lines; it is not in the signature.
        return BLEU(tokenize=tokenize, effective_order=sentence, force=self._segment is not None)


class TerScorer(_SacrebleuScorer):
    name = "ter"
    higher_is_better = False
    in_default_set = True
    gate_margin = None  # moved up to 20 points on benign edits of short documents (measured); configurable

    def _make(self, sentence: bool):
        from sacrebleu.metrics import TER

        return TER(asian_support=self.target_lang in SACREBLEU_TOKENIZERS)
