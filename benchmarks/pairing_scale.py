"""Corpus pairing at scale (issue 11): 500 pivots × 1,500 candidate documents, built from 90 real articles.

    nice -n 10 .venv/bin/python benchmarks/pairing_scale.py            # 60×180, 150×450, 500×1500 (~5 min)
    nice -n 10 .venv/bin/python benchmarks/pairing_scale.py --small    # 30×90 and 60×180 (~30 s)
    nice -n 10 .venv/bin/python benchmarks/pairing_scale.py --sizes 1000

Each size runs in a fresh process (peak memory is the process's maximum RSS, language model and all) and calls
:func:`evalkit.survey.pair_corpus` on a folder built from ``shared/corpus/ntrex128-docs`` (90 NTREX-128 articles,
line i of vi/th/ms/id the same sentence): N Vietnamese pivots and, for every pivot, its Thai, Malay and Indonesian
translation (3N candidates), all under random file names in one folder.

How copies are made, and what counts as right
---------------------------------------------
500 pivots need about 5.6 copies of each article, and two copies of one article with independent noise are the same
text: no pairing could tell which translation copy "belongs" to which pivot copy, so a rule that called that wrong
would measure a coin toss.  A copy here is an *edition* of the article, the way a wire story is republished:

* the edition's **content edit** (sentences removed, the end cut off: at most a third of the sentences gone) is made
  once and shared by the pivot and its three translations, as a translator translates the version in front of them;
* the edition's **dateline** ("WASHINGTON, 12/3/2021 (AP) -" in Vietnamese, "... 12 มี.ค. 2564 ..." with a
  Buddhist-Era year, sometimes in Thai digits, in Thai, "12 Mac 2021" in Malay, "12 Maret 2021" in Indonesian)
  opens the lead sentence of all four; the editions of one article have different days and years;
* **scrape noise** is independent per file: 1-4 site lines (bylines, share buttons, related links carrying another
  article's headline) and, for a fifth of the files, one more sentence lost.

A pair is **right** when pivot and candidate are the same edition in the right language, **wrong** otherwise: a
different article, another edition of the same article (column "edition"), or the right edition in the wrong
language (column "lang id"). A pivot × language with no match is **missed** (every pivot has its three translations
in the folder).  Lingua labels three of the 90 articles' Malay or Indonesian text as the other language (on the
whole text too); pair_corpus pools Malay and Indonesian and tells a pivot's two translations apart by comparing them
(:mod:`evalkit.survey_langs`), so those are no longer lost; the "(lang id)" columns count what is left.  The Malay
and Indonesian datelines carry month names that are among its distinctive words for 4 months of 12 (Mac/Maret,
Julai/Juli, Ogos/Agustus, Disember/Desember): tests/test_survey.py checks the comparison on the raw NTREX texts,
without datelines.

Copies of one edition compete: a site line inserted in the middle of a file may be a comment counter, after which
the cleaner drops the rest of the page as comments, so one file of an edition can lose most of its text; the editions
of an article are then told apart by their datelines (``aligned_number_agreement`` in evalkit.survey_fingerprint).

``--full-depth`` aligns every shortlisted candidate (candidates_per_pivot per slot) instead of the adaptive depth;
the "aligned" column counts full alignments.  ``--seed`` builds another corpus; ``--explain`` lists wrong and missed
pairs with the reasons.

Targets (issue 11): no wrong pair, ≥ 99 % found, time growing about linearly with the number of documents.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from alignment_devset import BOILERPLATE, load_ntrex  # noqa: E402

TARGETS = ("th", "ms", "id")
CITIES = ["WASHINGTON", "NEW YORK", "LONDON", "LOS ANGELES", "CHICAGO", "SYDNEY", "PARIS", "TORONTO"]
AGENCIES = ["AP", "AFP", "Reuters", "CNN", "BBC"]
TH_MONTHS = "ม.ค. ก.พ. มี.ค. เม.ย. พ.ค. มิ.ย. ก.ค. ส.ค. ก.ย. ต.ค. พ.ย. ธ.ค.".split()
MS_MONTHS = "Januari Februari Mac April Mei Jun Julai Ogos September Oktober November Disember".split()
ID_MONTHS = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember".split()
TH_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def dateline(lang: str, city: str, day: int, month: int, year: int, agency: str, thai_digits: bool) -> str:
    if lang == "vi":
        return f"{city}, {day}/{month}/{year} ({agency}) - "
    if lang == "th":
        date = f"{day} {TH_MONTHS[month - 1]} {year + 543}"
        return f"{city} {date.translate(TH_DIGITS) if thai_digits else date} ({agency}) - "
    months = MS_MONTHS if lang == "ms" else ID_MONTHS
    return f"{city}, {day} {months[month - 1]} {year} ({agency}) - "


def build_corpus(folder: Path, n_pivots: int, seed: int = 11) -> dict[str, tuple[str, int, str]]:
    """Write n_pivots editions × (vi + th/ms/id) under random names; returns name -> (article, edition, lang)."""
    articles = load_ntrex()
    if not articles:
        raise SystemExit(f"{ROOT.parent / 'shared/corpus/ntrex128-docs'}: not found (the benchmark needs it)")
    ids = sorted(articles)
    rng = random.Random(seed)
    headlines = {lang: [articles[a][lang][0] for a in ids] for lang in ("vi", *TARGETS)}
    order = ids[:]
    rng.shuffle(order)
    truth: dict[str, tuple[str, int, str]] = {}
    used_dates: dict[str, set] = {}
    names: set[str] = set()
    for i in range(n_pivots):
        art, edition = order[i % len(order)], i // len(order)
        sents = articles[art]
        n = len(sents["vi"])
        # the edition's content edit, shared by all four languages: the title (0) and lead (1) stay, at most a
        # third of the sentences go
        drop = {k for k in range(2, n) if rng.random() < 0.15}
        keep = [k for k in range(n) if k not in drop]
        if rng.random() < 0.3 and len(keep) > 4:
            keep = keep[: max(4, int(len(keep) * rng.uniform(0.6, 0.9)))]
        least = max(3, n - n // 3)
        if len(keep) < least:
            keep = sorted(keep + [k for k in range(n) if k not in keep][: least - len(keep)])
        # the edition's dateline: days and years differ between editions of one article
        while True:
            day, year = rng.randint(1, 28), rng.randint(2005, 2023)
            taken = used_dates.setdefault(art, set())
            if all(day != d and year != y for d, y in taken):
                taken.add((day, year))
                break
        month, city, agency, thai_digits = rng.randint(1, 12), rng.choice(CITIES), rng.choice(AGENCIES), rng.random() < 0.5
        for lang in ("vi", *TARGETS):
            lines = [sents[lang][k] for k in keep]
            if len(lines) > 1:
                lines[1] = dateline(lang, city, day, month, year, agency, thai_digits) + lines[1]
            if rng.random() < 0.2 and len(lines) > 4:  # scrape loss, this file only
                del lines[rng.randrange(2, len(lines))]
            for _ in range(rng.randint(1, 4)):  # site lines, this file only
                line = rng.choice(BOILERPLATE[lang])
                text = line.format(h=rng.choice(headlines[lang])) if "{h}" in line else line
                lines.insert(rng.choice([0, len(lines), rng.randrange(len(lines) + 1)]), text)
            while True:
                name = f"{rng.getrandbits(64):016x}.txt"
                if name not in names:
                    names.add(name)
                    break
            (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
            truth[name] = (art, edition, lang)
    return truth


def measure(n_pivots: int, per_pivot: int, full_depth: bool = False, seed: int = 11) -> dict:
    from evalkit import survey_slots
    from evalkit.corpus import load_document
    from evalkit.corpus.langid import detect_document
    from evalkit.survey import language_sample, pair_corpus

    if full_depth:  # every pivot aligns candidates_per_pivot candidates per slot (no adaptive depth)
        survey_slots.CONFIDENT = float("inf")
    aligned = [0]
    align = survey_slots.align_documents

    def counted(*args):
        aligned[0] += 1
        return align(*args)

    survey_slots.align_documents = counted

    with tempfile.TemporaryDirectory(prefix="pairing-scale-") as tmp:
        folder = Path(tmp)
        truth = build_corpus(folder, n_pivots, seed)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        result = pair_corpus(folder, "vi", TARGETS, candidates_per_pivot=per_pivot)
        seconds = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # which translations lingua labels as another language (whole text): they cannot be found in theirs
        lost_langid = {name for name, (_, _, lang) in truth.items() if lang != "vi"
                       and detect_document(language_sample(load_document(folder / name).texts)).lang != lang}
    right = wrong = wrong_same = wrong_lang = 0
    found = set()
    explained = []
    for m in result.matches:
        p, c = truth[m.pivot.path.name], truth[m.target.path.name]
        ok = c[2] == m.lang and (p[0], p[1]) == (c[0], c[1])
        if not ok:
            explained.append(f"{m.pivot.path.name} {p} {m.lang} -> {m.target.path.name} {c} "
                             f"score {m.verdict.score:.3f} lingua {m.target_lang.lang} {m.note}")
        right += ok
        wrong += not ok
        wrong_lang += (not ok) and c[2] != m.lang  # lingua's label, not the pairing
        wrong_same += (not ok) and c[2] == m.lang and p[0] == c[0]
        found.add((m.pivot.path.name, m.lang))
    pivots = [name for name, (_, _, lang) in truth.items() if lang == "vi"]
    expected = {(p, lang) for p in pivots for lang in TARGETS}
    translation_of = {(a, e, lang): name for name, (a, e, lang) in truth.items()}
    missed = expected - found
    reasons = {(g.pivot.name, g.lang): g.reason for g in result.missing}
    missed_langid = {(p, lang) for p, lang in missed if translation_of[(*truth[p][:2], lang)] in lost_langid}
    return {
        "pivots": len(pivots), "candidates": len(truth) - len(pivots), "pivots_found": len(result.pivots),
        "seconds": seconds, "stages": result.seconds, "peak_mb": peak / 1024, "rss_before_mb": rss_before / 1024,
        "right": right, "wrong": wrong, "wrong_same_article": wrong_same, "wrong_lang": wrong_lang, "expected": len(expected),
        "missed": len(missed), "missed_langid": len(missed_langid), "unpaired": len(result.unpaired),
        "alignments": aligned[0], "wrong_pairs": explained,
        "missed_pairs": [f"{p} {truth[p]} {lang}: {reasons.get((p, lang), '')}" for p, lang in sorted(missed)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true", help="30×90 and 60×180 only")
    ap.add_argument("--sizes", help="comma-separated pivot counts (candidates = 3 × pivots)")
    ap.add_argument("--per-pivot", type=int, default=3, help="candidates_per_pivot")
    ap.add_argument("--full-depth", action="store_true", help="no adaptive depth: align every shortlisted candidate")
    ap.add_argument("--explain", action="store_true", help="list the wrong and missed pairs")
    ap.add_argument("--seed", type=int, default=11, help="corpus seed")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size, print JSON
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.per_pivot, args.full_depth, args.seed)))
        return
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([30, 60] if args.small else [60, 150, 500])
    print(f"pair_corpus: N Vietnamese pivots × 3N th/ms/id candidates, candidates_per_pivot={args.per_pivot}"
          + (", full depth" if args.full_depth else ", adaptive depth") + f", seed {args.seed}")
    header = (f"{'pivots×cands':>13} {'seconds':>8} {'s/doc':>7} {'peak MB':>8}  {'right':>6} {'wrong':>6} "
              f"{'(lang id)':>9} {'(edition)':>9} {'missed':>7} {'(lang id)':>9} {'found':>7} {'aligned':>7}  stages (s)")
    print(header)
    rows = []
    for n in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--per-pivot", str(args.per_pivot)]
                             + ["--seed", str(args.seed)] + (["--full-depth"] if args.full_depth else []),
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"size {n} failed:\n{out.stderr[-3000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        docs = r["pivots"] + r["candidates"]
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
        print(f"{r['pivots']:>6}×{r['candidates']:<6} {r['seconds']:>8.1f} {r['seconds'] / docs:>7.4f} "
              f"{r['peak_mb']:>8.0f}  {r['right']:>6} {r['wrong']:>6} {r['wrong_lang']:>9} {r['wrong_same_article']:>9} "
              f"{r['missed']:>7} {r['missed_langid']:>9} {100 * r['right'] / r['expected']:>6.1f}% "
              f"{r['alignments']:>7}  {stages}", flush=True)
        if args.explain:
            for line in r["wrong_pairs"]:
                print(f"    wrong: {line}")
            for line in r["missed_pairs"]:
                print(f"    missed: {line}")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        docs_ratio = (b["pivots"] + b["candidates"]) / (a["pivots"] + a["candidates"])
        print(f"{docs_ratio:.1f}× the documents took {b['seconds'] / a['seconds']:.1f}× the time "
              f"(linear: {docs_ratio:.1f}×; quadratic: {docs_ratio ** 2:.0f}×)")
    found_ex = [100 * r["right"] / (r["expected"] - r["missed_langid"]) for r in rows]
    print("found excluding translations lingua labels as another language: "
          + ", ".join(f"{f:.1f}%" for f in found_ex))


if __name__ == "__main__":
    main()
