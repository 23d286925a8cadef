"""evalkit's corpus scores must match what the sacrebleu command prints for the same files.

This is the check a reviewer would do by hand: write hypotheses and references
to files, run `python -m sacrebleu REF -i HYP -m bleu chrf ter`, and compare.
Thai goes to the CLI already word-segmented by PyThaiNLP newmm, as evalkit
segments it for the word-based metrics; chrF ignores spaces, so evalkit scores
raw Thai and must still agree with the CLI on segmented text.
"""

import json
import random
import subprocess
import sys

import pytest
from pythainlp.tokenize import word_tokenize

from conftest import CORPUS, MALAY, THAI
from evalkit.corpus import load_document
from evalkit.scorers import METRICS

METRICS_ORDER = ["bleu", "chrf", "ter"]


def drop_words(lines: list[str], rate: float, seed: int) -> list[str]:
    """A deterministic imperfect 'translation': the reference with some words dropped and two swapped."""
    rng = random.Random(seed)
    out = []
    for line in lines:
        words = [w for w in line.split() if rng.random() > rate] or line.split()[:1]
        if len(words) > 3:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        out.append(" ".join(words))
    return out


def thai_segment(text: str) -> str:
    return " ".join(w for w in word_tokenize(text, engine="newmm", keep_whitespace=False) if w.strip())


def malay_pair():
    refs = load_document(CORPUS / MALAY).texts[:12]
    return drop_words(refs, 0.2, seed=1), refs


def thai_pair():
    refs = load_document(CORPUS / THAI).texts[:8]
    # Thai has no spaces to drop words at: splice halves of neighbouring paragraphs instead.
    hyps = [refs[i][: 2 * len(refs[i]) // 3] + refs[(i + 1) % len(refs)][: len(refs[i]) // 4] for i in range(len(refs))]
    return hyps, refs


def run_sacrebleu(tmp_path, hyps, refs, *args) -> str:
    assert all("\n" not in t for t in hyps + refs)
    (tmp_path / "ref.txt").write_text("\n".join(refs) + "\n", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("\n".join(hyps) + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "sacrebleu", str(tmp_path / "ref.txt"), "-i", str(tmp_path / "hyp.txt"),
                           *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def printed_scores(stdout: str) -> list[str]:
    """`-b` prints one number, or a JSON-style list of numbers for several metrics; keep them as printed."""
    lines = [line.strip().rstrip(",") for line in stdout.splitlines()]
    return [line for line in lines if line not in ("[", "]", "")]


@pytest.mark.parametrize("lang", ["ms", "th"])
def test_bleu_chrf_ter_as_printed_by_the_cli(tmp_path, lang):
    hyps, refs = malay_pair() if lang == "ms" else thai_pair()
    to_cli = (lambda xs: xs) if lang == "ms" else (lambda xs: [thai_segment(x) for x in xs])
    printed = printed_scores(run_sacrebleu(tmp_path, to_cli(hyps), to_cli(refs), "-m", *METRICS_ORDER, "-b"))
    ours = [METRICS.get(name)(lang).corpus_score(hyps, refs).score for name in METRICS_ORDER]
    assert printed == [f"{score:.1f}" for score in ours]
    assert all(0 < score < 100 for score in ours)  # not a degenerate comparison (TER can exceed 100; not here)

    # Four decimals and the signatures, from the CLI's JSON output.
    report = json.loads(run_sacrebleu(tmp_path, to_cli(hyps), to_cli(refs), "-m", *METRICS_ORDER, "-w", "4"))
    for name, entry in zip(METRICS_ORDER, report):
        result = METRICS.get(name)(lang).corpus_score(hyps, refs)
        assert f"{result.score:.4f}" == f"{entry['score']:.4f}", name
        assert result.signature.startswith(entry["signature"]), (result.signature, entry["signature"])


@pytest.mark.parametrize("lang", ["ms", "th"])
def test_chrf_plus_plus_as_printed_by_the_cli(tmp_path, lang):
    hyps, refs = malay_pair() if lang == "ms" else thai_pair()
    to_cli = (lambda xs: xs) if lang == "ms" else (lambda xs: [thai_segment(x) for x in xs])
    ours = METRICS.get("chrf++")(lang).corpus_score(hyps, refs)
    printed = printed_scores(run_sacrebleu(tmp_path, to_cli(hyps), to_cli(refs), "-m", "chrf", "--chrf-word-order", "2", "-b"))
    assert printed == [f"{ours.score:.1f}"]
    entry = json.loads(run_sacrebleu(tmp_path, to_cli(hyps), to_cli(refs), "-m", "chrf", "--chrf-word-order", "2", "-w", "4"))
    assert f"{ours.score:.4f}" == f"{entry['score']:.4f}" and ours.signature.startswith(entry["signature"])
