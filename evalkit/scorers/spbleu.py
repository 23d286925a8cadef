"""spBLEU: BLEU over FLORES-200 SentencePiece pieces (Goyal et al., 2022; NLLB Team, 2022).

BLEU needs words, and Thai (like many FLORES-200 languages) writes none. spBLEU
replaces the word tokenizer with one SentencePiece model shared by all 200
languages, so scores are comparable across languages without per-language
segmenters. sacrebleu implements it as `tokenize="flores200"`, but that tokenizer
downloads its model on first use -- offline it fails with a URLError trace and
leaves a 0-byte `.lock` behind -- and it does not checksum the file it loads.

So evalkit never lets sacrebleu near the network: it finds the model itself
(the `spm_model` option, else sacrebleu's own cached copy under `$SACREBLEU` or
`~/.sacrebleu`), encodes to pieces with sentencepiece exactly as sacrebleu's
`TokenizerSPM` does (`" ".join(EncodeAsPieces(line.rstrip()))`), and hands the
pieces to sacrebleu's BLEU with `tokenize="none"`. The result is identical to
`BLEU(tokenize="flores200")` on the same model file (checked in
tests/test_spbleu.py). The signature reads `tok:flores200` like sacrebleu's and
adds the model file's sha256 prefix, because sacrebleu's signature alone cannot
tell the real FLORES-200 model from any other file at that path.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from pydantic import Field

from evalkit import __version__
from evalkit.errors import MetricUnavailableError
from evalkit.hf_models import first_line
from evalkit.option_types import ConfigFile
from evalkit.scorers.base import Scorer, ScorerOptions
from evalkit.scorers.sacrebleu_batch import metric_scores

FLORES200_URL = "https://tinyurl.com/flores200sacrebleuspm"  # sacrebleu.tokenizers.tokenizer_spm.SPM_MODELS["flores200"]
_HASH_CHARS = 16


def sacrebleu_flores200_path() -> Path:
    """Where sacrebleu 2.x keeps (and would download) the FLORES-200 model.

    Read from the environment at call time, as a fresh sacrebleu process would;
    sacrebleu itself freezes `$SACREBLEU` when it is first imported.
    """
    home = os.environ.get("SACREBLEU") or os.path.join(os.path.expanduser("~"), ".sacrebleu")
    return Path(home) / "models" / os.path.basename(FLORES200_URL)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class SpBleuOptions(ScorerOptions):
    spm_model: ConfigFile | None = Field(
        None,
        description="the FLORES-200 SentencePiece .model file (relative to the config); "
        "default: sacrebleu's cached copy, if any",
    )


class SpBleuScorer(Scorer):
    name = "spbleu"
    Options = SpBleuOptions

    def __init__(self, target_lang: str, options: SpBleuOptions | None = None, source_lang: str | None = None) -> None:
        super().__init__(target_lang, options, source_lang)
        from sacrebleu.metrics import BLEU

        # Pieces are already split by spaces, so sacrebleu must not tokenize again;
        # the signature says which tokenizer produced them, as sacrebleu's would.
        self._metric = BLEU(tokenize="none")
        self._sentence_metric = BLEU(tokenize="none", effective_order=True)
        for metric in (self._metric, self._sentence_metric):
            metric.num_refs = 1
            metric.tokenizer_signature = "flores200"  # read only by BLEUSignature
        self._sp = None
        self._model_path: Path | None = None
        self._model_sha: str | None = None

    def load(self) -> None:
        if self._sp is not None:
            return
        path = self._find_model()
        import sentencepiece as spm

        processor = spm.SentencePieceProcessor()
        try:
            processor.Load(str(path))
        except (OSError, RuntimeError) as exc:
            reason = first_line(exc)
            raise MetricUnavailableError(f"spbleu: {path} is not a SentencePiece model ({reason})") from None
        self._model_path, self._model_sha, self._sp = path, _sha256(path), processor

    def _find_model(self) -> Path:
        configured = self.options.spm_model
        if configured is not None:
            path = Path(configured).expanduser()
            if not path.is_file() or path.stat().st_size == 0:
                raise MetricUnavailableError(
                    f"spbleu: spm_model {path} is missing or empty; download the FLORES-200 SentencePiece model "
                    f"from {FLORES200_URL} and point spm_model at it"
                )
            return path
        cached = sacrebleu_flores200_path()
        if cached.is_file() and cached.stat().st_size > 0:  # 0 bytes: a download that failed
            return cached
        raise MetricUnavailableError(
            f"spbleu: needs the FLORES-200 SentencePiece model, which evalkit does not download; fetch "
            f"{FLORES200_URL} where there is internet, then set `spm_model:` to the file or save it as {cached}"
        )

    # --- pieces ----------------------------------------------------------------

    def _pieces(self, texts: list[str]) -> list[str]:
        self.load()
        # Same steps as sacrebleu's BLEU + TokenizerSPM: rstrip, encode, join with spaces.
        return [" ".join(self._sp.EncodeAsPieces(text.rstrip())) for text in texts]

    def _corpus(self, candidates: list[str], references: list[str], sources=None) -> float:
        return self._metric.corpus_score(self._pieces(candidates), [self._pieces(references)]).score

    def _paragraphs(self, candidates: list[str], references: list[str], sources=None) -> list[float]:
        hyps, refs = self._pieces(candidates), self._pieces(references)
        return [self._sentence_metric.sentence_score(h, [r]).score for h, r in zip(hyps, refs)]

    def _statistics(self, candidates: list[str], references: list[str], sources=None) -> list[list[float]]:
        return self._metric._extract_corpus_statistics(self._pieces(candidates), [self._pieces(references)])

    def _score_from_statistics(self, summed: np.ndarray) -> float:
        # A fresh list of Python numbers, as in lexical.py: sacrebleu edits it in place.
        return self._metric._compute_score_from_stats(summed.tolist()).score

    def _scores_from_statistics(self, sums: np.ndarray) -> np.ndarray:
        # sacrebleu's BLEU arithmetic on all rows at once, bit-identical (see sacrebleu_batch)
        return metric_scores(self._metric, sums)

    # --- signature ---------------------------------------------------------------

    def _extend(self, sacrebleu_signature: str) -> str:
        self.load()
        return f"{sacrebleu_signature}|spm:sha256.{self._model_sha[:_HASH_CHARS]}|evalkit:{__version__}"

    def signature(self) -> str:
        return self._extend(str(self._metric.get_signature()))

    def paragraph_signature(self) -> str:
        return self._extend(str(self._sentence_metric.get_signature()))
