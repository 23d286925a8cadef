"""Decoding against the machine's GEMM bound, greedy and beam 4, with peak memory per path (issue 17 §3, §4).

One run prints:

1. GEMM throughput measured here, for the shapes one decode step and one
   encoder pass of NLLB-200-distilled-600M multiply (float32 through oneDNN,
   the kernels evalkit's seq2seq uses on CPU, and torch's default MKL; int8
   through torch's dynamic-quantized linear, fbgemm, as a stand-in for the
   int8 GEMMs CTranslate2 runs, which it does not expose), in CPU seconds.
2. The bound: the workload's FLOPs (encoder per source token, decoder per
   decoded token-row, the 1024 x 256,206 projection) divided by the
   throughput of the shape each FLOP runs at, i.e. the time of pure GEMM for
   the batches evalkit plans (16 rows per decode step at batch 16; paragraphs
   x beams rows for beam search, each batch at its own row count). Attention score
   products, layer norms, softmax and the beam bookkeeping are left out: the
   bound is a floor no implementation of the same arithmetic can beat.
3. Each path on the same paragraphs, every output forced to `--new-tokens`
   tokens (checked): wall and CPU seconds, decoded token-rows per CPU second,
   that against the bound, and the process's peak RSS while the path ran
   (VmHWM, reset before each path through /proc/self/clear_refs; model loads
   measured separately). Greedy: naive `generate` one paragraph at a time
   (sampled every `--naive-every`-th by length, extrapolated), evalkit with
   `greedy: generate` and with the default fused greedy; beam: naive and
   evalkit at `--beams`; CTranslate2 int8 and float32 (greedy) and int8 beam.
4. Agreement between the paths' outputs.

The model is random weights of NLLB-200-distilled-600M's architecture
(translation_speed.py builds it; speed does not depend on the weights' values).
Run it on a quiet machine, niced; it prints the load average before and after.

Usage: .venv/bin/python benchmarks/decode_bound.py [--paragraphs 32] [--new-tokens 64] [--batch-size 16]
       [--beams 4] [--naive-every 8] [--workdir DIR] [--tiny]   (--tiny: the tests' tiny NLLB, a smoke test)
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from translation_speed import build_nllb_600m_architecture, force_length, machine_state, paragraphs  # noqa: E402

# -- memory -------------------------------------------------------------------------------


def _status(field_name: str) -> int:
    """A /proc/self/status field in bytes (VmHWM, VmRSS, RssAnon, RssFile)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux: writing 5 to clear_refs), so the next peak is this path's own."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")


def gib(n: int) -> str:
    return f"{n / 2**30:.2f}"


# -- the bound ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    rows: int
    inner: int
    outer: int

    @property
    def flops(self) -> int:
        return 2 * self.rows * self.inner * self.outer


def _cpu_best(call, repeats: int = 3) -> float:
    call()
    best = float("inf")
    for _ in range(repeats):
        clock = time.process_time()
        call()
        best = min(best, time.process_time() - clock)
    return best


def gemm_throughput(shapes: list[Shape]) -> dict[Shape, dict[str, float]]:
    """GFLOP/s per shape: oneDNN float32, MKL float32 (torch's default), fbgemm int8 (dynamic quantization)."""
    import torch

    onednn = torch.ops.mkldnn._linear_pointwise
    out: dict[Shape, dict[str, float]] = {}
    with torch.inference_mode():
        for shape in shapes:
            x = torch.randn(shape.rows, shape.inner)
            weight = torch.randn(shape.outer, shape.inner) * 0.02
            rates = {
                "onednn f32": shape.flops / _cpu_best(lambda: onednn(x, weight, None, "none", [], "")) / 1e9,
                "mkl f32": shape.flops / _cpu_best(lambda: torch.nn.functional.linear(x, weight), 2) / 1e9,
            }
            layer = torch.nn.Linear(shape.inner, shape.outer, bias=False)
            layer.weight.data = weight
            quantized = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(layer), {torch.nn.Linear},
                                                               dtype=torch.qint8)
            del layer
            rates["int8"] = shape.flops / _cpu_best(lambda: quantized(x)) / 1e9
            out[shape] = rates
    return out


@dataclass
class Arch:
    d: int
    ffn: int
    layers: int
    vocabulary: int

    def decode_shapes(self, rows: int) -> list[tuple[Shape, int]]:
        """(shape, count) for one decode step of `rows` rows, projection excluded: self q,k,v,o, cross q,o, FFN."""
        d, f, n = self.d, self.ffn, self.layers
        return [(Shape(rows, d, d), 6 * n), (Shape(rows, d, f), n), (Shape(rows, f, d), n)]

    def projection(self, rows: int) -> Shape:
        return Shape(rows, self.d, self.vocabulary)

    def encoder_shapes(self, rows: int) -> list[tuple[Shape, int]]:
        """Per `rows` source tokens: encoder q,k,v,o and FFN, plus the decoder's cross-attention k,v (once per token)."""
        d, f, n = self.d, self.ffn, self.layers
        return [(Shape(rows, d, d), 4 * n + 2 * n), (Shape(rows, d, f), n), (Shape(rows, f, d), n)]


@dataclass
class Bound:
    """Pure-GEMM seconds of a workload at the measured throughputs, per kernel family."""

    seconds: dict[str, float]
    flops: float
    parts: dict[str, float] = field(default_factory=dict)  # GFLOP per part, for the printout


def workload_bound(arch: Arch, rates, batches: list[int], source_tokens: int, steps: int, projected_steps: int,
                   encoder_rows: int) -> Bound:
    """Decoder batches of `batches[i]` rows, `steps` steps each (projection on `projected_steps`), plus the encoder.

    Each batch's decode products are timed at the throughput of its own row count.
    """
    kinds = ("onednn f32", "mkl f32", "int8")
    seconds = dict.fromkeys(kinds, 0.0)
    parts = {"encoder + cross k,v": 0.0, "decoder layers": 0.0, "output projection": 0.0}

    def add(part: str, shape: Shape, flops: float) -> None:
        parts[part] += flops / 1e9
        for kind in kinds:
            seconds[kind] += flops / (rates[shape][kind] * 1e9)

    for shape, count in arch.encoder_shapes(encoder_rows):
        add("encoder + cross k,v", shape, count * shape.flops / encoder_rows * source_tokens)
    for rows in batches:
        for shape, count in arch.decode_shapes(rows):
            add("decoder layers", shape, count * shape.flops * steps)
        add("output projection", arch.projection(rows), arch.projection(rows).flops * projected_steps)
    return Bound(seconds, sum(parts.values()) * 1e9, parts)


# -- paths --------------------------------------------------------------------------------


@dataclass
class Run:
    path: str
    paragraphs: int
    seconds: float
    cpu: float
    token_rows: int  # decoder rows x steps actually decoded (beams count)
    peak: int  # VmHWM during the path, bytes
    outputs: list[str]
    indices: list[int] | None = None
    extrapolate_to: int | None = None
    bound_key: str = "greedy"
    kernels: str = "onednn f32"


def measured(path: str, call, token_rows_per_paragraph: int, paragraphs_done: int, **extra) -> Run:
    reset_peak()
    clock, cpu = time.perf_counter(), time.process_time()
    outputs = call()
    seconds, cpu = time.perf_counter() - clock, time.process_time() - cpu
    return Run(path, paragraphs_done, seconds, cpu, token_rows_per_paragraph * paragraphs_done, _status("VmHWM"),
               outputs, **extra)


class LengthCheck:
    """Records the output lengths of generate and of the fused greedy loop; every row must be forced to `expected`."""

    def __init__(self, expected: int) -> None:
        self.expected, self.lengths = expected, set()

    def __enter__(self):
        import evalkit.backends.seq2seq as seq2seq

        self._module, self._decode = seq2seq, seq2seq.decode_greedy

        def decode(*args, **kwargs):
            rows = self._decode(*args, **kwargs)
            self.lengths.update(len(row) - 1 for row in rows)
            return rows

        seq2seq.decode_greedy = decode
        return self

    def wrap(self, model):
        generate = model.generate

        def timed(*args, **kwargs):
            out = generate(*args, **kwargs)
            self.lengths.add(out.shape[1] - 1)
            return out

        model.generate = timed
        return generate

    def __exit__(self, *exc) -> None:
        self._module.decode_greedy = self._decode

    def check(self, what: str) -> None:
        if self.lengths != {self.expected}:
            raise SystemExit(f"{what}: output lengths {sorted(self.lengths)}, expected all {self.expected}")


def naive(model, tokenizer, codes, texts: list[str], new_tokens: int, beams: int) -> list[str]:
    forced = {"forced_bos_token_id": tokenizer.convert_tokens_to_ids(codes.forced_bos_token)} if codes.forced_bos_token else {}
    outputs = []
    for text in texts:
        encoded = tokenizer(codes.source_prefix + text, return_tensors="pt")
        generated = model.generate(**encoded, max_new_tokens=new_tokens, min_new_tokens=new_tokens, num_beams=beams,
                                   do_sample=False, **forced)
        if generated.shape[1] - 1 != new_tokens:
            raise SystemExit(f"naive: {generated.shape[1] - 1} tokens, expected {new_tokens}")
        outputs.append(tokenizer.decode(generated[0], skip_special_tokens=True).strip())
    return outputs


def transformers_paths(folder: Path, texts: list[str], args) -> tuple[list[Run], dict[str, object]]:
    """Naive and evalkit paths, greedy and beam, on one loaded model (freed on return)."""
    from evalkit.backends.langcodes import resolve_codes
    from evalkit.backends.seq2seq import Seq2SeqOptions, Seq2SeqTranslator

    n, beams = args.new_tokens, args.beams
    force_length(folder, n)

    def translator(**options) -> Seq2SeqTranslator:
        return Seq2SeqTranslator("hf", folder, Seq2SeqOptions(batch_size=args.batch_size, max_new_tokens=n, **options))

    fused = translator()
    reset_peak()
    before = _status("VmRSS")
    clock = time.perf_counter()
    fused.load()
    memory = {"load seconds": time.perf_counter() - clock, "rss before load": before, "load peak": _status("VmHWM"),
              "rss after load": _status("VmRSS"), "anon after load": _status("RssAnon"),
              "file after load": _status("RssFile"),
              "weights": sum(p.numel() * p.element_size() for p in fused._model.parameters())}
    model, tokenizer = fused._model, fused._tokenizer
    codes = resolve_codes(tokenizer, str(folder), "vi", "th")
    if codes.tokenizer_src_lang:
        tokenizer.src_lang = codes.tokenizer_src_lang
    model.generate(**tokenizer(codes.source_prefix + texts[0], return_tensors="pt"), max_new_tokens=2, min_new_tokens=2)
    lengths = [len(tokenizer(codes.source_prefix + t)["input_ids"]) for t in texts]
    memory["source tokens"], memory["lengths"] = sum(lengths), lengths
    by_length = sorted(range(len(texts)), key=lambda i: (lengths[i], i))
    every = args.naive_every
    sample = sorted(by_length[every // 2 :: every]) if every > 1 else list(range(len(texts)))
    extra = {"indices": sample, "extrapolate_to": len(texts)} if len(sample) < len(texts) else {}
    runs = []

    def evalkit(label: str, t: Seq2SeqTranslator, rows_per_paragraph: int, key: str) -> Run:
        t._model, t._tokenizer, t._device = model, tokenizer, fused._device  # the same loaded weights
        t._onednn, t._onednn_failure = fused._onednn, fused._onednn_failure
        with LengthCheck(n) as check:
            original = check.wrap(model)
            try:
                run = measured(label, lambda: t.translate(texts, "vi", "th").texts, rows_per_paragraph, len(texts),
                               bound_key=key)
            finally:
                model.generate = original
        check.check(label)
        run.path += f" [{t.info.get('decoding', '?').split(' (')[0]}]"
        return run

    runs.append(measured("(i) naive generate, greedy", lambda: naive(model, tokenizer, codes, [texts[i] for i in sample],
                                                                       n, 1), n, len(sample), kernels="mkl f32", **extra))
    runs.append(evalkit(f"(ii) evalkit batch {args.batch_size}, greedy=generate", translator(greedy="generate"), n, "greedy"))
    runs.append(evalkit(f"(iii) evalkit batch {args.batch_size}, fused greedy", fused, n, "greedy"))
    if args.wide_batch:
        wide = Seq2SeqTranslator("hf", folder, Seq2SeqOptions(batch_size=args.wide_batch, max_new_tokens=n))
        runs.append(evalkit(f"(iii') evalkit batch {args.wide_batch}, fused greedy", wide, n, "greedy wide"))
    if beams > 1:
        runs.append(measured(f"(iv) naive generate, beam {beams}",
                             lambda: naive(model, tokenizer, codes, [texts[i] for i in sample], n, beams), n * beams,
                             len(sample), kernels="mkl f32", bound_key="beam", **extra))
        runs.append(evalkit(f"(v) evalkit batch {args.batch_size}, beam {beams}", translator(num_beams=beams),
                            n * beams, "beam"))
    memory["rows per decode step, beam"] = _beam_rows(lengths, args, beams)
    return runs, memory  # the model is freed with this frame, before CTranslate2 loads its own


def _beam_rows(lengths: list[int], args, beams: int) -> list[int]:
    from evalkit.backends.batching import plan_batches

    return [len(batch) * beams for batch in plan_batches(lengths, args.batch_size, 8192, beams=beams)]


def ct2_paths(folder: Path, texts: list[str], args, work: Path) -> tuple[list[Run], dict[str, float]]:
    from evalkit.backends.ct2 import CTranslate2Options, CTranslate2Translator, convert_to_ct2

    runs, loads = [], {}
    for quantization, beam in (("int8", 1), ("float32", 1), ("int8", args.beams)):
        destination = work / f"{folder.name}-ct2-{quantization}"
        if not destination.is_dir():
            convert_to_ct2(folder, destination, quantization=quantization, force=True)
        options = CTranslate2Options(compute_type=quantization, batch_size=args.batch_size, intra_threads=1,
                                     inter_threads=1, beam_size=beam, max_decoding_length=args.new_tokens,
                                     min_decoding_length=args.new_tokens)
        translator = CTranslate2Translator("ct2", destination, options)
        reset_peak()
        clock = time.perf_counter()
        translator.load()
        loads[f"{quantization} beam {beam}"] = (time.perf_counter() - clock, _status("VmHWM"))
        label = f"(vi) CTranslate2 {quantization}, batch {args.batch_size}, " + ("greedy" if beam == 1 else f"beam {beam}")
        runs.append(measured(label, lambda: translator.translate(texts, "vi", "th").texts, args.new_tokens * beam,
                             len(texts), bound_key="greedy" if beam == 1 else "beam",
                             kernels="int8" if quantization == "int8" else "onednn f32"))
        translator = None  # freed before the next load, so each load's peak is its own
    return runs, loads


# -- report ---------------------------------------------------------------------------------


def report(runs: list[Run], bounds: dict[str, Bound], new_tokens: int) -> None:
    header = (f"   {'path':<58} {'paras':>6} {'wall s':>8} {'CPU s':>8} {'tok-rows/CPU s':>14} {'x naive':>7}"
              f" {'bound s':>8} {'of bound':>8} {'peak RSS GiB':>12}")
    print(header)
    print("   " + "-" * (len(header) - 3))
    naive_rate = {}
    for run in runs:
        scale = (run.extrapolate_to / run.paragraphs) if run.extrapolate_to else 1.0
        cpu, wall = run.cpu * scale, run.seconds * scale
        rate = run.token_rows * scale / cpu
        if run.path.startswith(("(i)", "(iv)")):
            naive_rate[run.bound_key] = run.paragraphs * scale / cpu
        speedup = (run.paragraphs * scale / cpu) / naive_rate[run.bound_key.split()[0]]
        bound = bounds[run.bound_key].seconds[run.kernels]
        mark = "*" if run.extrapolate_to else " "
        paragraphs = f"{run.paragraphs}->{run.extrapolate_to}" if run.extrapolate_to else str(run.paragraphs)
        print(f"   {run.path:<58} {paragraphs:>6} {wall:7.1f}{mark} {cpu:7.1f}{mark} {rate:14.1f} {speedup:6.1f}x"
              f" {bound:8.1f} {100 * bound / cpu:7.0f}% {gib(run.peak):>12}")
    print("   * timed on every N-th paragraph by input length and extrapolated linearly to all (per-paragraph calls)")
    print(f"   tok-rows: decoded token-rows ({new_tokens} per paragraph, x beams for beam search);"
          " bound s: pure GEMM at the measured throughput of the kernels the path runs (naive: MKL; CTranslate2 int8:"
          " the int8 GEMM stand-in); of bound = bound s / CPU s")


NAMES = {"(i)": "naive", "(ii)": "generate", "(iii)": "fused", "(iii')": "fused wide batch", "(iv)": "naive beam",
         "(v)": "evalkit beam"}


def agreement(runs: list[Run]) -> str:
    by = {run.path.split()[0]: run for run in runs}

    def same(a: str, b: str) -> str:
        x, y = by.get(a), by.get(b)
        if not x or not y:
            return ""
        ys = [y.outputs[i] for i in x.indices] if x.indices else y.outputs
        return f"{NAMES[a]} = {NAMES[b]}: {sum(p == q for p, q in zip(x.outputs, ys))}/{len(x.outputs)}"

    def count(a: Run, b: Run) -> str:
        return f"{sum(p == q for p, q in zip(a.outputs, b.outputs))}/{len(a.outputs)}"

    ct2 = [r for r in runs if r.path.startswith("(vi)")]
    lines = [same("(ii)", "(iii)"), same("(i)", "(iii)"), same("(iii')", "(iii)"), same("(iv)", "(v)")]
    if len(ct2) >= 2 and "(iii)" in by:
        lines += [f"CT2 float32 = fused: {count(ct2[1], by['(iii)'])}", f"CT2 int8 = CT2 float32: {count(ct2[0], ct2[1])}"]
    if len(ct2) >= 3 and "(v)" in by:
        lines.append(f"CT2 int8 beam = evalkit beam: {count(ct2[2], by['(v)'])}")
    return " · ".join(line for line in lines if line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--wide-batch", type=int, default=32, help="also fused greedy at this batch size (0: not)")
    parser.add_argument("--naive-every", type=int, default=8)
    parser.add_argument("--workdir", type=Path, help="keep the built models here and reuse them (default: temporary)")
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny NLLB instead of the 600M architecture")
    parser.add_argument("--skip-ct2", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    import transformers
    from transformers.utils import logging as hf_logging

    warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
    warnings.filterwarnings("ignore", module="torch.ao")  # quantize_dynamic's deprecation notices (the int8 stand-in)
    warnings.filterwarnings("ignore", message=".*quantiz.*deprecated")
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(1)
    started = time.perf_counter()
    print(f"decode bound · torch {torch.__version__} (1 thread) · transformers {transformers.__version__} · "
          f"{os.cpu_count()} CPUs · quantized engine {torch.backends.quantized.engine}")
    print(f"before: {machine_state()}")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="evalkit-bound-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        texts = paragraphs()[: args.paragraphs]
        if args.tiny:
            from tiny_models import build_nllb

            folder = work / "tiny-nllb"
            if not folder.is_dir():
                build_nllb(folder, work / "tiny-nllb-work")
            # its input limit is 256 tokens: longer paragraphs would be split by evalkit but not by the naive loop
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
            texts = [t for t in paragraphs() if len(tokenizer(t)["input_ids"]) <= 200][: args.paragraphs]
        else:
            folder = work / "nllb-600m-arch"
            if not (folder / "config.json").is_file():
                clock = time.perf_counter()
                build_nllb_600m_architecture(work)
                print(f"built the 600M architecture in {time.perf_counter() - clock:.0f} s")
        config = transformers.AutoConfig.from_pretrained(folder)
        arch = Arch(config.d_model, config.decoder_ffn_dim, config.decoder_layers, config.vocab_size)

        runs, memory = transformers_paths(folder, texts, args)
        gc.collect()
        loads = {}
        if not args.skip_ct2:
            ct2_runs, loads = ct2_paths(folder, texts, args, work)
            runs += ct2_runs

        # GEMM throughput last: the paths above ran on a machine not yet warmed by it, and its buffers are freed
        from evalkit.backends.batching import plan_batches

        lengths = memory["lengths"]
        batches = {  # decoder rows of each batch, as evalkit plans them
            "greedy": [len(b) for b in plan_batches(lengths, args.batch_size, 8192)],
            "greedy wide": [len(b) for b in plan_batches(lengths, args.wide_batch or args.batch_size, 8192)],
            "beam": memory["rows per decode step, beam"],
        }
        encoder_rows = 1024
        every_rows = {rows for rows_list in batches.values() for rows in rows_list}
        shapes = {s for rows in every_rows for s, _ in arch.decode_shapes(rows)}
        shapes |= {arch.projection(rows) for rows in every_rows}
        shapes |= {s for s, _ in arch.encoder_shapes(encoder_rows)}
        clock = time.perf_counter()
        rates = gemm_throughput(sorted(shapes, key=lambda s: (s.rows, s.inner, s.outer)))
        print(f"\nGEMM throughput on this CPU, GFLOP/s of CPU time, 1 thread (measured in {time.perf_counter() - clock:.0f} s):")
        print(f"   {'rows x inner -> outer':<26} {'oneDNN f32':>10} {'MKL f32':>8} {'int8':>8}")
        for shape, rate in rates.items():
            print(f"   {f'{shape.rows} x {shape.inner} -> {shape.outer}':<26} {rate['onednn f32']:10.0f}"
                  f" {rate['mkl f32']:8.0f} {rate['int8']:8.0f}")

        n, p = args.new_tokens, len(texts)
        projected = n - 1 if config.model_type == "m2m_100" else n  # NLLB's forced first token needs no projection
        bounds = {key: workload_bound(arch, rates, rows, memory["source tokens"], n, projected, encoder_rows)
                  for key, rows in batches.items()}
        for key, bound in bounds.items():
            print(f"bound, {key} (rows per decode step {batches[key]}; {p} paragraphs, {memory['source tokens']} source"
                  f" tokens, {n} tokens each): {bound.flops / 1e9:.1f} GFLOP ("
                  + ", ".join(f"{k} {v:.1f}" for k, v in bound.parts.items()) + ") = "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in bound.seconds.items()))
        print(f"\nPaths ({p} paragraphs x {n} forced tokens; batch {args.batch_size}; beam rows per step"
              f" {memory['rows per decode step, beam']}):")
        report(runs, bounds, n)
        print("   identical outputs: " + agreement(runs))
        print(f"\nMemory: weights {gib(memory['weights'])} GiB float32; transformers load {memory['load seconds']:.1f} s,"
              f" peak {gib(memory['load peak'])} GiB (RSS before {gib(memory['rss before load'])}), after load"
              f" {gib(memory['rss after load'])} GiB = anonymous {gib(memory['anon after load'])}"
              f" + file-backed {gib(memory['file after load'])}")
        if loads:
            print("   CTranslate2 loads: " + ", ".join(f"{k} {s:.1f} s peak {gib(m)} GiB" for k, (s, m) in loads.items()))
        print(f"after: {machine_state()}")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
