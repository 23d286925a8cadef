"""How fast each translation path runs on CPU, side by side, and what evalkit itself costs.

Two models, both randomly initialised (the machines are offline; speed does not
depend on the values of the weights, only on their shapes):

(a) the tests' tiny MarianMT (2+2 layers, d_model 64, ~1,000-piece vocabulary);
(b) a model with NLLB-200-distilled-600M's exact architecture: M2M100, d_model
    1024, 12 encoder + 12 decoder layers, 16 heads, FFN 4096, vocabulary 256,206,
    scale_embedding, tied output projection (615 M parameters). Its tokenizer is
    the tests' tiny NLLB tokenizer (a SentencePiece model trained on the corpus
    plus the 202 FLORES language codes), so every path runs on real text through
    the real code, tokenizer included; its input limit is set to NLLB-200's 1,024
    tokens (the tests' 256 would make evalkit alone split the longest paragraphs
    in two, translating more pieces than the other paths). The vocabulary is
    padded to 256,206 ids the tokenizer never produces; their embedding rows
    (= output-projection rows, they are tied) are zeroed so that greedy decoding
    picks decodable ids. The 1024 x 256,206 projection is still computed in
    full at every step, so the cost is that of the real model.

Paths, each on the same Vietnamese paragraphs from the corpus:

(i)   naive: `model.generate` on one paragraph at a time, outside inference_mode
      (what a first script does), torch's default kernels (evalkit switches the
      model's linear layers to oneDNN only inside its own translate());
(ii)  evalkit's `Seq2SeqTranslator`: length-sorted batches, inference_mode, the
      encoder run on near-equal-length groups outside generate, oneDNN linear
      layers on CPU, greedy decoding with the output projection fused into the
      argmax (see evalkit/backends/seq2seq.py and decoding.py);
(iii) evalkit's `CTranslate2Translator` on the converted model, int8 and float32.

Fairness: every output is forced to exactly `--new-tokens` tokens
(transformers: min_new_tokens = max_new_tokens, through the model folder's
generation_config.json, which Seq2SeqTranslator honours; CTranslate2:
min_decoding_length = max_decoding_length), and checked. torch and CTranslate2
both get `--threads` threads (default 1; FACTS.md: 1 is the stable setting on
these shared 2-core machines). The default load, 32 paragraphs x 64 output
tokens, is FACTS.md's; real translations of these paragraphs (40-290 input
tokens) would be longer still, and the longer the outputs the more decoding,
where batching pays, outweighs encoding, where it cannot. The naive loop on (b)
is timed on every `--naive-every`-th paragraph of the list sorted by input
length (a sample spanning short to long; the report prints its mean length
against all paragraphs') and compared per paragraph; its time for all
paragraphs is extrapolated linearly (each paragraph is an independent generate
call with the same forced output length) and marked so. One untimed generate
call first pages the weights in, so the first timed path is not charged for it.

evalkit overhead = a full translate() call minus the time spent inside the
engine's own calls (`model.generate` or the fused greedy loop, plus the encoder
calls Seq2SeqTranslator makes before it / `ctranslate2.Translator.translate_batch`, timed here by
wrapping them, independently of evalkit's own `seconds`), as a share of the
translate() time: tokenizing, sorting, batching, decoding.

Usage: .venv/bin/python benchmarks/translation_speed.py [--paragraphs 32] [--new-tokens 64]
       [--naive-every 8] [--threads 1] [--skip-large]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # tiny_models: the same tiny models the tests build

CORPUS = ROOT / "corpus" / "vn-jp-2023"
VIETNAMESE = ["002_6d8f2e7b812a4376.txt", "004_424d4b2d4314c3a5.txt"]  # the pivot, then the other vi document
NLLB_600M = dict(
    d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16, decoder_attention_heads=16,
    encoder_ffn_dim=4096, decoder_ffn_dim=4096, vocab_size=256_206, max_position_embeddings=1024,
    scale_embedding=True, activation_function="relu", dropout=0.1, attention_dropout=0.1, activation_dropout=0.0,
    encoder_layerdrop=0.0, decoder_layerdrop=0.0, tie_word_embeddings=True,
    # Not NLLB's 0.02: with it, random cross-attention is nearly uniform and every paragraph
    # gets the same (empty) output, which would make the agreement counts meaningless.
    # Measured: 0.1 gives 6/8 distinct outputs; the weights' scale does not change the cost.
    init_std=0.1,
)


@dataclass
class Row:
    path: str
    paragraphs: int
    seconds: float
    engine_seconds: float | None = None  # inside generate / translate_batch
    cpu_seconds: float = 0.0  # this process's CPU time: what other work on the machine cannot inflate
    outputs: list[str] = field(default_factory=list)
    note: str = ""
    extrapolated_to: int | None = None
    indices: list[int] | None = None  # which of the paragraphs it translated, when not all

    @property
    def per_paragraph(self) -> float:
        return self.seconds / self.paragraphs

    @property
    def cpu_per_paragraph(self) -> float:
        return self.cpu_seconds / self.paragraphs


class EngineTimer:
    """Wraps the engine call a backend makes, adding up its wall time and checking output lengths."""

    def __init__(self, expected_tokens: int) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.expected = expected_tokens
        self.lengths: set[int] = set()

    def wrap_call(self, call):
        """Times a call without counting it as one engine call (the encoder Seq2SeqTranslator runs before generate)."""

        @functools.wraps(call)  # generate inspects the encoder's signature
        def timed(*args, **kwargs):
            clock = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - clock

        return timed

    def wrap_generate(self, generate):
        def timed(*args, **kwargs):
            clock = time.perf_counter()
            out = generate(*args, **kwargs)
            self.seconds += time.perf_counter() - clock
            self.calls += 1
            self.lengths.add(out.shape[1] - 1)  # minus the decoder start token
            return out

        return timed

    def wrap_greedy(self, decode):
        """The fused greedy loop Seq2SeqTranslator runs instead of generate (evalkit/backends/decoding.py)."""

        def timed(*args, **kwargs):
            clock = time.perf_counter()
            rows = decode(*args, **kwargs)
            self.seconds += time.perf_counter() - clock
            self.calls += 1
            self.lengths.update(len(row) - 1 for row in rows)  # minus the decoder start token
            return rows

        return timed

    def wrap_ct2(self, translator):
        timer = self

        class Timed:
            def translate_batch(self, *args, **kwargs):
                clock = time.perf_counter()
                results = translator.translate_batch(*args, **kwargs)
                timer.seconds += time.perf_counter() - clock
                timer.calls += 1
                timer.lengths.update(len(r.hypotheses[0]) for r in results)  # forced target token included
                return results

        return Timed()

    def check(self, what: str) -> None:
        if self.lengths != {self.expected}:
            raise SystemExit(f"{what}: output lengths {sorted(self.lengths)}, expected all {self.expected}; unfair comparison")


# -- the machine -------------------------------------------------------------------------


def machine_state() -> str:
    load = os.getloadavg()
    try:
        ps = subprocess.run(["ps", "-eo", "pid,pcpu,etime,args", "--sort=-pcpu"], capture_output=True, text=True, timeout=10)
        busy = [
            line.strip()[:110] for line in ps.stdout.splitlines()[1:]
            if len(line.split()) > 3 and line.split()[0] != str(os.getpid()) and line.split()[3] != "ps"
            and float(line.split()[1]) >= 5.0
        ][:4]
    except (OSError, ValueError, subprocess.SubprocessError):
        busy = []
    others = "; ".join(busy) if busy else "no other process above 5% CPU"
    return f"load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} (1/5/15 min); {others}"


# -- models ------------------------------------------------------------------------------


def paragraphs() -> list[str]:
    from evalkit.corpus import load_document

    return [t for name in VIETNAMESE for t in load_document(CORPUS / name).texts]


def force_length(folder: Path, new_tokens: int) -> None:
    """min_new_tokens = max_new_tokens in the folder's generation config, so Seq2SeqTranslator forces the length."""
    from transformers import GenerationConfig

    config = GenerationConfig.from_pretrained(folder)
    config.min_new_tokens = new_tokens
    config.max_length = None
    config.max_new_tokens = new_tokens
    config.forced_eos_token_id = None
    config.save_pretrained(folder)


def build_tiny(work: Path) -> Path:
    from tiny_models import build_marian

    return build_marian(work / "tiny-marian", work / "tiny-marian-work")


def build_nllb_600m_architecture(work: Path, seed: int = 0) -> tuple[Path, int]:
    """save_pretrained folder: NLLB-200-distilled-600M's architecture, random weights, tiny NLLB tokenizer."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    from tiny_models import build_nllb

    tiny = build_nllb(work / "tiny-nllb", work / "tiny-nllb-work")
    tokenizer = NllbTokenizer.from_pretrained(tiny, model_max_length=1024)  # NLLB-200's limit, not the tests' 256
    torch.manual_seed(seed)
    config = M2M100Config(
        **NLLB_600M, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id, decoder_start_token_id=tokenizer.eos_token_id,
    )
    model = M2M100ForConditionalGeneration(config).eval()
    with torch.no_grad():
        model.get_input_embeddings().weight[len(tokenizer):] = 0.0  # ids the tokenizer cannot produce or decode
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()  # tied, as in NLLB
    model.generation_config.forced_eos_token_id = None
    folder = work / "nllb-600m-arch"
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    parameters = sum(p.numel() for p in model.parameters())
    del model
    return folder, parameters


# -- the paths ---------------------------------------------------------------------------


def run_naive(model, tokenizer, codes, texts: list[str], new_tokens: int) -> Row:
    """One generate call per paragraph, no inference_mode (generate only applies no_grad itself)."""
    timer = EngineTimer(new_tokens)
    generate = timer.wrap_generate(model.generate)
    forced = {"forced_bos_token_id": tokenizer.convert_tokens_to_ids(codes.forced_bos_token)} if codes.forced_bos_token else {}
    if codes.tokenizer_src_lang:
        tokenizer.src_lang = codes.tokenizer_src_lang
    outputs = []
    clock, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        encoded = tokenizer(codes.source_prefix + text, return_tensors="pt")
        generated = generate(
            **encoded, max_new_tokens=new_tokens, min_new_tokens=new_tokens, num_beams=1, do_sample=False, **forced
        )
        outputs.append(tokenizer.decode(generated[0], skip_special_tokens=True).strip())
    seconds, cpu = time.perf_counter() - clock, time.process_time() - cpu
    timer.check("naive")
    return Row("(i) naive generate, 1 at a time", len(texts), seconds, timer.seconds, cpu, outputs)


def run_seq2seq(translator, texts: list[str], new_tokens: int, target: str) -> Row:
    timer = EngineTimer(new_tokens)
    generate = translator._model.generate
    encoder = translator._model.get_encoder()
    import evalkit.backends.seq2seq as seq2seq

    decode = seq2seq.decode_greedy
    translator._model.generate = timer.wrap_generate(generate)
    seq2seq.decode_greedy = timer.wrap_greedy(decode)
    encoder.forward = timer.wrap_call(encoder.forward)  # an instance attribute, deleted below
    try:
        clock, cpu = time.perf_counter(), time.process_time()
        outputs = translator.translate(texts, "vi", target).texts
        seconds, cpu = time.perf_counter() - clock, time.process_time() - cpu
    finally:
        translator._model.generate = generate
        seq2seq.decode_greedy = decode
        del encoder.forward
    timer.check("seq2seq")
    batch = translator.options.batch_size
    return Row(f"(ii) evalkit Seq2SeqTranslator, batch {batch}", len(texts), seconds, timer.seconds, cpu, outputs)


def run_ct2(folder: Path, compute_type: str, texts: list[str], new_tokens: int, target: str, threads: int,
            batch_size: int, label: str) -> tuple[Row, float]:
    from evalkit.backends.ct2 import CTranslate2Options, CTranslate2Translator

    options = CTranslate2Options(
        compute_type=compute_type, batch_size=batch_size, intra_threads=threads, inter_threads=1,
        max_decoding_length=new_tokens, min_decoding_length=new_tokens,
    )
    translator = CTranslate2Translator("ct2", folder, options)
    clock = time.perf_counter()
    translator.load()
    load = time.perf_counter() - clock
    timer = EngineTimer(new_tokens)
    translator._translator = timer.wrap_ct2(translator._translator)
    clock, cpu = time.perf_counter(), time.process_time()
    outputs = translator.translate(texts, "vi", target).texts
    seconds, cpu = time.perf_counter() - clock, time.process_time() - cpu
    timer.check(label)
    return Row(label, len(texts), seconds, timer.seconds, cpu, outputs), load


# -- one model ---------------------------------------------------------------------------


def best(runs: int, run) -> Row:
    """The fastest of `runs` runs (the least disturbed by other work on the machine)."""
    return min((run() for _ in range(runs)), key=lambda row: row.cpu_seconds)


def transformers_rows(folder: Path, texts: list[str], naive_every: int, new_tokens: int, batch_size: int,
                      target: str, repeats: int) -> tuple[list[Row], float]:
    """(i) and (ii) on one loaded model; the model is freed on return, before CTranslate2 converts its own copy."""
    from evalkit.backends.langcodes import resolve_codes
    from evalkit.backends.seq2seq import Seq2SeqOptions, Seq2SeqTranslator

    force_length(folder, new_tokens)
    translator = Seq2SeqTranslator("hf", folder, Seq2SeqOptions(batch_size=batch_size, max_new_tokens=new_tokens))
    clock = time.perf_counter()
    translator.load()
    load = time.perf_counter() - clock
    codes = resolve_codes(translator._tokenizer, str(folder), "vi", target)
    model, tokenizer = translator._model, translator._tokenizer
    if codes.tokenizer_src_lang:
        tokenizer.src_lang = codes.tokenizer_src_lang
    # Untimed warm-up: the first call pages the weights in (from_pretrained maps the file; ~2 s for the 600M
    # model's output projection alone), which would otherwise be charged to whichever path runs first.
    warm_up = tokenizer(codes.source_prefix + texts[0], return_tensors="pt")
    model.generate(**warm_up, max_new_tokens=2, min_new_tokens=2)
    lengths = [len(tokenizer(codes.source_prefix + t)["input_ids"]) for t in texts]
    # Every k-th of the length-sorted list, from the middle of each stratum of k: short to long paragraphs alike.
    by_length = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
    indices = sorted(by_length[naive_every // 2 :: naive_every]) if naive_every > 1 else list(range(len(texts)))
    naive = best(repeats, lambda: run_naive(model, tokenizer, codes, [texts[i] for i in indices], new_tokens))
    naive.indices = indices
    if len(indices) < len(texts):
        naive.extrapolated_to = len(texts)
        mean = lambda values: sum(values) / len(values)  # noqa: E731
        naive.note = (f"every {naive_every}-th by input length; mean input {mean([lengths[i] for i in indices]):.0f} "
                      f"tokens vs {mean(lengths):.0f} for all {len(texts)} ({min(lengths)}-{max(lengths)})")
    return [naive, best(repeats, lambda: run_seq2seq(translator, texts, new_tokens, target))], load


def benchmark(title: str, folder: Path, texts: list[str], naive_every: int, new_tokens: int, threads: int,
              batch_size: int, target: str, work: Path, repeats: int = 1) -> None:
    import torch

    from evalkit.backends.ct2 import convert_to_ct2

    print(f"\n== {title}")
    print(f"   {len(texts)} paragraphs ({sum(map(len, texts))} characters) x {new_tokens} output tokens, forced;"
          f" torch threads {torch.get_num_threads()}, CTranslate2 intra_threads {threads}, inter_threads 1")
    print(f"   before: {machine_state()}")
    rows, hf_load = transformers_rows(folder, texts, naive_every, new_tokens, batch_size, target, repeats)
    loads = {"transformers": hf_load}
    conversions = {}
    for quantization in ("int8", "float32"):
        clock = time.perf_counter()
        destination = work / f"{folder.name}-ct2-{quantization}"
        converted = convert_to_ct2(folder, destination, quantization=quantization, force=True)
        conversions[quantization] = time.perf_counter() - clock
        runs = [run_ct2(converted, quantization, texts, new_tokens, target, threads, batch_size,
                        f"(iii) CTranslate2 {quantization}, batch {batch_size}") for _ in range(repeats)]
        row, loads[f"ct2 {quantization}"] = min(runs, key=lambda run: run[0].cpu_seconds)
        rows.append(row)
    # Batch neighbours (OpenNMT/CTranslate2#693): the same int8 model, other batch compositions.
    other_batch = max(1, batch_size // 3)
    invariance, _ = run_ct2(work / f"{folder.name}-ct2-int8", "int8", texts, new_tokens, target, threads, other_batch,
                            f"CTranslate2 int8, batch {other_batch}")
    print(f"   after:  {machine_state()}")
    report(rows, texts, new_tokens, loads, conversions, invariance)


def report(rows: list[Row], texts: list[str], new_tokens: int, loads: dict[str, float], conversions: dict[str, float],
           invariance: Row) -> None:
    naive = rows[0]
    header = (f"   {'path':<42} {'paras':>5} {'wall s':>8} {'CPU s':>8} {'CPU s/para':>10} {'x naive CPU':>11}"
              f" {'x naive wall':>12} {'in engine':>9} {'evalkit overhead':>17}")
    print(header)
    print("   " + "-" * (len(header) - 3))
    for row in rows:
        wall, cpu, paragraphs = f"{row.seconds:8.2f}", f"{row.cpu_seconds:8.2f}", f"{row.paragraphs:>5}"
        if row.extrapolated_to:
            wall = f"{row.per_paragraph * row.extrapolated_to:7.1f}*"
            cpu = f"{row.cpu_per_paragraph * row.extrapolated_to:7.1f}*"
            paragraphs = f"{row.paragraphs:>2}->{row.extrapolated_to}"
        by_cpu = naive.cpu_per_paragraph / row.cpu_per_paragraph
        by_wall = naive.per_paragraph / row.per_paragraph
        if row is naive:
            overhead = "(not evalkit)"
        else:
            extra = row.seconds - row.engine_seconds
            overhead = f"{extra:.3f} s = {100 * extra / row.seconds:.1f}%"
        print(f"   {row.path:<42} {paragraphs} {wall} {cpu} {row.cpu_per_paragraph:10.3f} {by_cpu:10.1f}x"
              f" {by_wall:11.1f}x {row.engine_seconds:9.2f} {overhead:>17}")
    if naive.extrapolated_to:
        print(f"   * naive timed on {naive.paragraphs} paragraphs ({naive.note}) and extrapolated linearly to"
              f" {naive.extrapolated_to}; x naive compares seconds per paragraph")
    print("   CPU ms per token-row (CPU s / paragraphs / output tokens): "
          + " · ".join(f"{row.path.split(',')[0]} {1000 * row.cpu_per_paragraph / new_tokens:.2f}" for row in rows))
    print("   CPU s: this process's CPU time (1 thread per engine), which other processes on the machine do not inflate;"
          " wall s: elapsed time; in engine and overhead: wall time")
    print("   load: " + ", ".join(f"{k} {v:.1f} s" for k, v in loads.items())
          + " · conversion: " + ", ".join(f"{k} {v:.1f} s" for k, v in conversions.items()) + " (not in the table)")
    hf, ct2_int8, ct2_f32 = rows[1].outputs, rows[2].outputs, rows[3].outputs
    n_naive = naive.paragraphs
    sampled = [hf[i] for i in naive.indices] if naive.indices is not None else hf
    agree = [
        ("naive = Seq2SeqTranslator", sum(a == b for a, b in zip(naive.outputs, sampled)), n_naive),
        ("CT2 float32 = Seq2SeqTranslator", sum(a == b for a, b in zip(ct2_f32, hf)), len(texts)),
        ("CT2 int8 = CT2 float32", sum(a == b for a, b in zip(ct2_int8, ct2_f32)), len(texts)),
        (f"CT2 int8 batch {rows[2].path.split()[-1]} = batch {invariance.path.split()[-1]}",
         sum(a == b for a, b in zip(ct2_int8, invariance.outputs)), len(texts)),
    ]
    print("   identical outputs: " + " · ".join(f"{what} {same}/{n}" for what, same, n in agree)
          + f" · distinct outputs in (ii): {len(set(hf))}/{len(hf)}, empty: {sum(not t for t in hf)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=32, help="paragraphs for (b)")
    parser.add_argument("--naive-every", type=int, default=8,
                        help="(b): the naive loop runs on every N-th paragraph by input length (1 = all)")
    parser.add_argument("--tiny-paragraphs", type=int, default=32, help="paragraphs for (a), naive included")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch threads and CTranslate2 intra_threads")
    parser.add_argument("--tiny-repeats", type=int, default=3, help="(a) is fast: best of this many runs per path")
    parser.add_argument("--skip-large", action="store_true", help="only (a), the tiny Marian")
    parser.add_argument("--workdir", type=Path, help="keep models here (default: a temporary folder, deleted)")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import ctranslate2
    import torch
    import transformers
    from transformers.utils import logging as hf_logging

    warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    print(f"translation speed · torch {torch.__version__} (threads {torch.get_num_threads()}, interop "
          f"{torch.get_num_interop_threads()}) · transformers {transformers.__version__} · ctranslate2 "
          f"{ctranslate2.__version__} · {os.cpu_count()} CPUs · CT2 CPU compute types "
          f"{sorted(ctranslate2.get_supported_compute_types('cpu'))}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="evalkit-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        texts = paragraphs()
        tiny = build_tiny(work)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(tiny)
        short = [t for t in texts if len(tokenizer(t)["input_ids"]) <= 200][: args.tiny_paragraphs]  # its limit: 256
        benchmark("(a) tiny MarianMT (2+2 layers, d_model 64), vi->th", tiny, short, 1, args.new_tokens,
                  args.threads, args.batch_size, "th", work, repeats=args.tiny_repeats)
        if not args.skip_large:
            clock = time.perf_counter()
            folder, parameters = build_nllb_600m_architecture(work)
            print(f"\n(b) built in {time.perf_counter() - clock:.0f} s: {parameters / 1e6:.0f} M parameters, "
                  f"{json.loads((folder / 'config.json').read_text())['vocab_size']:,} vocabulary")
            large = texts[: args.paragraphs]
            benchmark("(b) NLLB-200-distilled-600M architecture (random weights), vie_Latn->tha_Thai", folder, large,
                      args.naive_every, args.new_tokens, args.threads, args.batch_size, "th", work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
