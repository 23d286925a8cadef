"""Monotonic paragraph alignment and "is this a translation?" verdicts.

A Gale & Church (1993) / Bleualign / vecalign style aligner that needs no MT
system, embeddings or dictionaries, so it works for any language pair
(including scripts without spaces, like Thai):

* :mod:`.text`   — language-light features: lengths, numbers (with Thai
  digits and Buddhist-Era years), acronyms, names without diacritics, script
  profiles for spotting boilerplate;
* :mod:`.costs`  — bead costs: Gale–Church length term with a ratio estimated
  from the document pair, anchor agreement, boilerplate penalties;
* :mod:`.dp`     — the monotonic DP (1-1, 1-2, 2-1, 1-0, 0-1 beads, affine
  gaps), forward–backward posteriors, batched DP for the order test;
* :mod:`.aligner` — ratio re-estimation, confidences, shuffled-order test;
* :mod:`.moved`  — a second pass that pairs moved blocks the monotonic path
  leaves unmatched on both sides;
* :mod:`.verdict` — the document-level decision.

Public API::

    align_paragraphs(source, target, source_lang, target_lang) -> Alignment
    assess_translation(source, target, alignment, source_lang, target_lang) -> PairingVerdict

Both are pure and deterministic (no I/O, no randomness beyond a fixed seed).
"""

from .aligner import align_paragraphs
from .types import Alignment, Bead, PairingVerdict
from .verdict import assess_translation

__all__ = ["Alignment", "Bead", "PairingVerdict", "align_paragraphs", "assess_translation"]
