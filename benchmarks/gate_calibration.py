"""Calibrate `evalkit check` on real documents: detection of real regressions, false alarms on benign edits.

Every case builds two RunResults through the library (paragraph and corpus
scores from evalkit's own scorers, as `evalkit run` stores them) and calls the
real gate, `evalkit.compare.gate`, with the defaults `evalkit check` uses
(metric margins, paragraph rules, alpha 0.05, 1,000 paired-bootstrap resamples,
10,000 randomisation trials), unless flags say otherwise.

Documents (real data only)
  * shipped: corpus/vn-jp-2023, Vietnamese 002 against its Malay (001) and Thai
    (000) translations, paragraphs paired by the hand-checked gold alignments in
    tests/data/gold (16 and 17 paragraphs).
  * ntrex: ../shared/corpus/ntrex128-docs, whole articles (5-30 sentences),
    Malay and Thai, consecutive sentences grouped two to a paragraph (NTREX has
    no paragraph breaks): 3-15 paragraphs per document.

Baselines (the run a CI job compares against)
  * human: the reference itself (chrF 100), the harshest case for false alarms
    per point of change and the issue's own example.
  * degraded: the reference with every 6th word removed and every 9th word
    swapped with its neighbour (Thai: character spans), standing in for an MT
    system of chrF ~60-80.
  * indonesian (NTREX Malay only): the Indonesian translation of the same
    sentences, a real independent translation in a sister language (chrF ~50).

Real regressions, applied to k paragraphs of the baseline's candidates
  garbled      the paragraph replaced by a paragraph of an unrelated article in the target language
  truncated    cut to its first half (at a space where there is one)
  untranslated the Vietnamese source paragraph copied
  number       one digit of one number changed (only paragraphs with a digit)
  sentence     its last sentence dropped (only paragraphs with two or more)
Benign edits, applied to k paragraphs
  punctuation  commas removed (not between digits), a space before the final stop, straight quotes curled, doubled spaces
  synonym      one word replaced by a synonym from a small per-language table
               (Malay: kerana → sebab, tetapi → namun, ...; Thai: กล่าว → พูด, ...);
               paragraphs without a table word are left alone and not counted
  clause order the two halves of the first sentence swapped at its first comma (Thai: at
               its first space), else the first two sentences swapped

k runs over 1..n on the shipped documents and over {1, 2, 3, n//2, n} on
NTREX ones. A regression is detected when the gate fails; a benign edit is a
false alarm when it fails.

    .venv/bin/python benchmarks/gate_calibration.py            # shipped + 16 NTREX documents
    .venv/bin/python benchmarks/gate_calibration.py --quick    # shipped only
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evalkit.compare import default_paragraph_rules, gate  # noqa: E402
from evalkit.results import single_document_run, AlignmentRecord, DocumentRecord, ParagraphResult, RunResult, Score, SystemResult  # noqa: E402
from evalkit.scorers import METRICS, default_gate_margins, default_metric_names  # noqa: E402

SHIPPED = ROOT / "corpus" / "vn-jp-2023"
NTREX = ROOT.parent / "shared" / "corpus" / "ntrex128-docs"
PIVOT = "002_6d8f2e7b812a4376.txt"
REFERENCES = {"ms": "001_011d1486f715c8a5.txt", "th": "000_04e105a6d28e593c.txt"}

REGRESSIONS = ("garbled", "truncated", "untranslated", "number", "sentence")
BENIGN = ("punctuation", "synonym", "clause order")
SYNONYMS = {
    "ms": {"kerana": "sebab", "tetapi": "namun", "juga": "turut", "besar": "agung", "berkata": "menyatakan",
           "akan": "bakal", "sangat": "amat", "selepas": "setelah", "mahu": "ingin", "banyak": "ramai",
           "tahun": "tahun-tahun", "untuk": "bagi", "kepada": "terhadap", "telah": "sudah", "dalam": "di dalam",
           "orang": "individu", "negara": "negeri", "baru": "baharu", "lebih": "makin", "dengan": "bersama"},
    "th": {"กล่าว": "พูด", "ได้รับ": "รับ", "ประมาณ": "ราว", "ประชาชน": "ผู้คน", "เพื่อ": "เพื่อที่จะ",
           "จำนวน": "ปริมาณ", "ประเทศ": "ชาติ", "ใหญ่": "โต", "เริ่ม": "เริ่มต้น", "ดังนั้น": "เพราะฉะนั้น",
           "เมื่อ": "ตอนที่", "มาก": "อย่างมาก", "ทั้งหมด": "ทั้งสิ้น", "แต่": "ทว่า", "ยัง": "ยังคง"},
}


# --- documents ------------------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def shipped_documents() -> list[dict]:
    docs = []
    pivot = _lines(SHIPPED / PIVOT)
    for lang, file in REFERENCES.items():
        reference = _lines(SHIPPED / file)
        gold = json.loads((ROOT / "tests" / "data" / "gold" / f"vi-{lang}.json").read_text(encoding="utf-8"))
        pairs = [(" ".join(pivot[i - 1] for i in s), " ".join(reference[j - 1] for j in t)) for s, t in gold["pairs"]]
        docs.append({"name": f"shipped-{lang}", "lang": lang, "set": "shipped", "sources": [s for s, _ in pairs],
                     "references": [r for _, r in pairs], "sister": None})
    return docs


def ntrex_documents(limit: int, folder: Path = NTREX) -> list[dict]:
    docs = []
    folders = sorted(p for p in folder.iterdir() if p.is_dir())
    # Evenly spread over the sorted list, so different outlets and lengths are in.
    step = max(1, len(folders) // max(limit, 1))
    for folder in folders[::step][:limit]:
        vi = _lines(folder / "vi.txt")
        for lang in ("ms", "th"):
            ref = _lines(folder / f"{lang}.txt")
            indonesian = _lines(folder / "id.txt") if lang == "ms" else None
            group = lambda lines: [" ".join(lines[i:i + 2]) for i in range(0, len(lines), 2)]  # noqa: E731
            docs.append({"name": f"{folder.name}-{lang}", "lang": lang, "set": "ntrex", "sources": group(vi),
                         "references": group(ref), "sister": group(indonesian) if indonesian else None})
    return docs


# --- edits ----------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"”’)])\s+")


def sentences(text: str, lang: str) -> list[str]:
    if lang == "th":  # Thai separates sentences (and clauses) by spaces, not stops
        return [s for s in text.split(" ") if s]
    return [s for s in _SENTENCE_END.split(text) if s]


def degrade(text: str, lang: str) -> str:
    """A stand-in for an imperfect MT output: every 6th word dropped, every 9th swapped with its neighbour."""
    if lang == "th":
        chars = list(text)
        kept = [c for i, c in enumerate(chars) if i % 11 != 5]
        for i in range(8, len(kept) - 1, 17):
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
        return "".join(kept)
    words = text.split()
    kept = [w for i, w in enumerate(words) if i % 6 != 5]
    for i in range(8, len(kept) - 1, 9):
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    return " ".join(kept)


def regress(kind: str, text: str, source: str, lang: str, unrelated: str) -> str | None:
    """The paragraph after a real regression of `kind`; None where it does not apply."""
    if kind == "garbled":
        return unrelated
    if kind == "truncated":
        half = len(text) // 2
        cut = text.rfind(" ", 0, half + 1) if lang != "th" else -1
        return text[: cut if cut > half // 2 else half].rstrip()
    if kind == "untranslated":
        return source
    if kind == "number":
        match = re.search(r"\d", text)
        if not match:
            return None
        digit = match.group()
        return text[: match.start()] + str((int(digit) + 3) % 10) + text[match.end():]
    if kind == "sentence":
        parts = sentences(text, lang)
        if len(parts) < 2:
            return None
        return " ".join(parts[:-1])
    raise ValueError(kind)


def benign(kind: str, text: str, lang: str) -> str | None:
    """The paragraph after a benign edit of `kind`; None where it does not apply."""
    if kind == "punctuation":
        # Commas between digits are left alone: "1,000" -> "1000" may be a different number in some languages.
        edited = re.sub(r"(?<!\d),|,(?!\d)", "", text).replace('"', "“").replace("'", "’").replace(" - ", "  -  ")
        edited = re.sub(r"([.!?])$", r" \1", edited)
        return edited if edited != text else edited + " "
    if kind == "synonym":
        table = SYNONYMS[lang]
        for word, synonym in table.items():
            pattern = re.compile(re.escape(word) if lang == "th" else rf"\b{re.escape(word)}\b")
            if pattern.search(text):
                return pattern.sub(synonym, text, count=1)
        return None
    if kind == "clause order":
        parts = sentences(text, lang)
        if lang != "th":
            head, sep, tail = parts[0].partition(", ")
            if sep and tail:
                end = tail[-1] if tail[-1] in ".!?" else ""
                swapped = f"{tail.rstrip('.!?')}, {head[0].lower() + head[1:]}{end}"
                return " ".join([swapped[0].upper() + swapped[1:], *parts[1:]])
        if len(parts) >= 2:
            return " ".join([parts[1], parts[0], *parts[2:]])
        return None
    raise ValueError(kind)


# --- runs through the library ----------------------------------------------------


class Scoring:
    """Scorers loaded once per language; run records built as `evalkit run` stores them."""

    def __init__(self, metrics: list[str]):
        self.metrics = metrics
        self._scorers: dict[str, dict] = {}

    def scorers(self, lang: str) -> dict:
        if lang not in self._scorers:
            found = {}
            for name in self.metrics:
                scorer = METRICS.get(name)(lang, None, "vi")
                scorer.load()
                found[name] = scorer
            self._scorers[lang] = found
        return self._scorers[lang]

    def run(self, doc: dict, candidates: list[str], run_id: str) -> RunResult:
        lang, refs, srcs = doc["lang"], doc["references"], doc["sources"]
        scorers = self.scorers(lang)
        paragraph_scores = {m: s.paragraph_scores(candidates, refs, srcs) for m, s in scorers.items()}
        details = {m: s.paragraph_details(candidates, refs, srcs) for m, s in scorers.items()}
        paragraphs = [
            ParagraphResult([i + 1], [i + 1], srcs[i], refs[i], candidates[i], 1.0,
                            scores={m: paragraph_scores[m][i] for m in scorers},
                            details={m: details[m][i] for m in scorers if details[m] is not None})
            for i in range(len(refs))
        ]
        corpus = {m: Score(s.corpus_score(candidates, refs, srcs).score, s.signature(),
                           higher_is_better=s.higher_is_better) for m, s in scorers.items()}
        system = SystemResult("mt", "precomputed", None, "ok", corpus_scores=corpus, paragraphs=paragraphs)
        record = lambda name, code: DocumentRecord(name, code, code, 1.0, len(refs), [], [])  # noqa: E731
        return single_document_run(run_id, "", "", {"metric_options": {}}, record(f"{doc['name']}.vi", "vi"),
                         record(f"{doc['name']}.{lang}", lang), AlignmentRecord([], [], [], True, 1.0, ""), [system])


def _worse_paragraphs(before: RunResult, after: RunResult, metric: str) -> int:
    sign = 1 if METRICS.get(metric).higher_is_better else -1
    pairs = zip(before.systems[0].paragraphs, after.systems[0].paragraphs)
    return sum(-sign * (b.scores[metric] - a.scores[metric]) > 1e-9 for a, b in pairs)


def pick(n: int, k: int, eligible: list[int], salt: int) -> list[int]:
    """k of the eligible paragraphs, spread out deterministically."""
    if k >= len(eligible):
        return list(eligible)
    order = sorted(eligible, key=lambda i: (i * 7919 + salt * 104729) % (n * 31 + 17))
    return sorted(order[:k])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shipped documents only")
    parser.add_argument("--ntrex-docs", type=int, default=16, help="NTREX articles (each in Malay and Thai)")
    parser.add_argument("--trials", type=int, default=10000, help="randomisation trials (check's default)")
    parser.add_argument("--resamples", type=int, default=1000, help="paired-bootstrap resamples (check's default)")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--paragraph-drop", type=float, default=None, help="chrF paragraph limit (default: check's)")
    parser.add_argument("--margin", action="append", default=[], metavar="METRIC=POINTS",
                        help="override a metric's document margin (repeatable), to measure other defaults")
    parser.add_argument("--json", type=Path, help="also write every case here")
    parser.add_argument("--sweep", action="store_true",
                        help="also replay the cases under other chrF margins and paragraph limits (p-values and floors "
                             "do not depend on them), the table the defaults were chosen from")
    parser.add_argument("--ntrex", type=Path, default=NTREX, help="the ntrex128-docs folder")
    args = parser.parse_args()

    metrics = default_metric_names() + (["numbers"] if "numbers" in METRICS and "numbers" not in default_metric_names() else [])
    margins = default_gate_margins()
    for value in args.margin:
        name, _, points = value.partition("=")
        margins[name] = float(points)
    paragraph_drop, paragraphs_worse = default_paragraph_rules()
    if args.paragraph_drop is not None:
        paragraph_drop["chrf"] = args.paragraph_drop
    docs = shipped_documents() + ([] if args.quick else ntrex_documents(args.ntrex_docs, args.ntrex))
    scoring = Scoring(metrics)
    print(f"metrics {', '.join(metrics)}; margins {margins}; paragraph drop {paragraph_drop}; paragraphs worse "
          f"{paragraphs_worse}; alpha {args.alpha}; {args.resamples} resamples, {args.trials} trials")
    cases = []
    started = time.perf_counter()
    # "Garbled" paragraphs come from other articles: fluent text in the right language, about something else.
    every = docs + ([] if len(docs) > 2 else ntrex_documents(args.ntrex_docs, args.ntrex))
    unrelated_pool = {lang: [p for d in every if d["lang"] == lang for p in d["references"]] for lang in ("ms", "th")}
    for doc in docs:
        n, lang = len(doc["references"]), doc["lang"]
        baselines = {"human": list(doc["references"]), "degraded": [degrade(r, lang) for r in doc["references"]]}
        if doc["sister"] and len(doc["sister"]) == n:
            baselines["indonesian"] = doc["sister"]
        ks = list(range(1, n + 1)) if doc["set"] == "shipped" else sorted({1, 2, 3, max(1, n // 2), n})
        pool = [p for p in unrelated_pool[lang] if p not in doc["references"] and len(p) > 80]
        print(f"  {doc['name']}: {n} paragraphs, baselines {', '.join(baselines)} "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        for base_name, base in baselines.items():
            base_run = scoring.run(doc, base, f"{doc['name']}-{base_name}")
            for group, kinds in (("regression", REGRESSIONS), ("benign", BENIGN)):
                for kind in kinds:
                    edit = (lambda i, kind=kind: regress(kind, base[i], doc["sources"][i], lang, pool[(i * 13) % len(pool)])) \
                        if group == "regression" else (lambda i, kind=kind: benign(kind, base[i], lang))
                    edited = {i: edit(i) for i in range(n)}
                    eligible = [i for i in range(n) if edited[i] is not None and edited[i] != base[i]]
                    done = set()
                    for k in ks:
                        chosen = pick(n, k, eligible, salt=k)
                        if not chosen or (len(chosen), tuple(chosen)) in done:
                            continue
                        done.add((len(chosen), tuple(chosen)))
                        candidates = [edited[i] if i in chosen else base[i] for i in range(n)]
                        run = scoring.run(doc, candidates, f"{doc['name']}-{base_name}-{kind}-{k}")
                        outcome = gate(base_run, run, max_drop=margins, max_paragraph_drop=paragraph_drop,
                                       max_paragraphs_worse=paragraphs_worse, alpha=args.alpha,
                                       resamples=args.resamples, trials=args.trials)
                        chrf = next(d for d in outcome.decisions if d.metric == "chrf")
                        cases.append({
                            "doc": doc["name"], "set": doc["set"], "baseline": base_name, "group": group, "kind": kind,
                            "k": len(chosen), "n": n, "failed": not outcome.passed,
                            "rules": sorted({r for d in outcome.decisions if d.failed for r in d.decided_by}),
                            "failed_by": sorted({f"{d.metric}:{r}" for d in outcome.decisions if d.failed
                                                 for r in d.decided_by}),
                            "metrics": {d.metric: {"drop": d.drop, "p_floor": d.p_floor, "p": d.p,
                                                   "worst": max((p["drop"] for p in d.worst_paragraphs), default=0.0),
                                                   "worse_paragraphs": _worse_paragraphs(base_run, run, d.metric)}
                                        for d in outcome.decisions},
                            "chrf_drop": chrf.drop, "chrf_p_floor": chrf.p_floor,
                            "worst_paragraph_drop": max((p["drop"] for p in chrf.worst_paragraphs), default=0.0),
                        })
    seconds = time.perf_counter() - started
    report(cases, seconds)
    if args.sweep:
        sweep(cases, margins, paragraph_drop, paragraphs_worse, args.alpha)
    if args.json:
        args.json.write_text(json.dumps(cases, indent=1), encoding="utf-8")


def _bucket(k: int, n: int) -> str:
    if k == n:
        return "all"
    return str(k) if k <= 5 else "6+"


def report(cases: list[dict], seconds: float) -> None:
    buckets = ["1", "2", "3", "4", "5", "6+", "all"]
    for title, group in (("Detection of real regressions (gate fails)", "regression"),
                         ("False alarms on benign edits (gate fails)", "benign")):
        print(f"\n{title}: cases detected/total by k changed paragraphs")
        for subset in ("shipped", "ntrex"):
            rows = [c for c in cases if c["group"] == group and c["set"] == subset]
            if not rows:
                continue
            print(f"  {subset} documents")
            print("    " + f"{'kind':<14}" + "".join(f"{'k=' + b:>10}" for b in buckets) + f"{'total':>12}")
            kinds = REGRESSIONS if group == "regression" else BENIGN
            for kind in kinds:
                cells = []
                for b in buckets:
                    sel = [c for c in rows if c["kind"] == kind and _bucket(c["k"], c["n"]) == b]
                    cells.append(f"{sum(c['failed'] for c in sel)}/{len(sel)}" if sel else "-")
                sel = [c for c in rows if c["kind"] == kind]
                rate = sum(c["failed"] for c in sel) / len(sel) if sel else 0.0
                print("    " + f"{kind:<14}" + "".join(f"{x:>10}" for x in cells) + f"{rate:>11.0%} ")
    rules = defaultdict(int)
    for c in cases:
        if c["group"] == "regression" and c["failed"]:
            for r in c["rules"]:
                rules[r] += 1
    regressions = [c for c in cases if c["group"] == "regression"]
    benign_cases = [c for c in cases if c["group"] == "benign"]
    print(f"\nall regressions: {sum(c['failed'] for c in regressions)}/{len(regressions)} detected "
          f"({sum(c['failed'] for c in regressions) / max(1, len(regressions)):.1%}); without 'number': "
          f"{sum(c['failed'] for c in regressions if c['kind'] != 'number')}/"
          f"{sum(c['kind'] != 'number' for c in regressions)}")
    print(f"all benign edits: {sum(c['failed'] for c in benign_cases)}/{len(benign_cases)} false alarms "
          f"({sum(c['failed'] for c in benign_cases) / max(1, len(benign_cases)):.1%})")
    print("rules that caught regressions (a case may count under several): "
          + ", ".join(f"{r} {n}" for r, n in sorted(rules.items(), key=lambda x: -x[1])))
    missed = [c for c in regressions if not c["failed"] and c["kind"] != "number"]
    for c in missed[:15]:
        print(f"  missed: {c['doc']} {c['baseline']} {c['kind']} k={c['k']}/{c['n']}: chrF drop {c['chrf_drop']:.2f}, "
              f"worst paragraph {c['worst_paragraph_drop']:.1f}, floor {c['chrf_p_floor']:.3f}")
    alarms = [c for c in benign_cases if c["failed"]]
    for c in alarms[:15]:
        print(f"  false alarm: {c['doc']} {c['baseline']} {c['kind']} k={c['k']}/{c['n']}: chrF drop {c['chrf_drop']:.2f}, "
              f"worst paragraph {c['worst_paragraph_drop']:.1f}, failed by {', '.join(c['failed_by'])}")
    print(f"\n{len(cases)} gate calls in {seconds:.0f} s")


def _replay(case: dict, margins: dict, paragraph_drop: dict, paragraphs_worse: dict, alpha: float) -> bool:
    """Would the gate fail this case under other margins/limits? Same rules as `evalkit.compare._decide`."""
    for metric, m in case["metrics"].items():
        margin = margins.get(metric)
        if margin is not None and m["drop"] > margin and (m["p_floor"] >= alpha or (m["p"] is not None and m["p"] < alpha)):
            return True
        if metric in paragraph_drop and m["worst"] > paragraph_drop[metric]:
            return True
        if metric in paragraphs_worse and m["worse_paragraphs"] > paragraphs_worse[metric]:
            return True
    return False


def sweep(cases: list[dict], margins: dict, paragraph_drop: dict, paragraphs_worse: dict, alpha: float) -> None:
    print("\nSweep: detection (shipped / all, 'number' included) and false alarms under other settings")
    print(f"  {'chrF margin':>11} {'chrF++':>7} {'BLEU':>6} {'TER':>6} {'para':>6}   {'shipped':>8} {'all':>7} {'false':>7}")
    regressions = [c for c in cases if c["group"] == "regression"]
    shipped = [c for c in regressions if c["set"] == "shipped"]
    benign_cases = [c for c in cases if c["group"] == "benign"]
    for chrf in (0.5, 1.0, 2.0, 3.0):
        for others in ((None, None, None), (chrf, None, None), (chrf, 5.0, 5.0), (chrf, 10.0, 10.0)):
            for para in (10.0, 15.0, 20.0, 30.0):
                trial = {**{k: v for k, v in margins.items() if k not in ("chrf", "chrf++", "bleu", "ter")}, "chrf": chrf}
                for name, value in zip(("chrf++", "bleu", "ter"), others):
                    if value is not None:
                        trial[name] = value
                limits = {**paragraph_drop, "chrf": para}
                rate = lambda rows: sum(_replay(c, trial, limits, paragraphs_worse, alpha) for c in rows) / max(1, len(rows))  # noqa: E731
                label = lambda v: "-" if v is None else f"{v:g}"  # noqa: E731
                print(f"  {chrf:>11g} {label(others[0]):>7} {label(others[1]):>6} {label(others[2]):>6} {para:>6g}   "
                      f"{rate(shipped):>8.1%} {rate(regressions):>7.1%} {rate(benign_cases):>7.1%}")


if __name__ == "__main__":
    main()
