"""Build tiny, randomly initialised but real translation models for offline tests.

The weights are random, so outputs are gibberish; what matters is that they are
saved with `save_pretrained` and loaded back through exactly the code users run
(AutoTokenizer / AutoModelForSeq2SeqLM in evalkit.backends.seq2seq).
"""

from __future__ import annotations

import json
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "vn-jp-2023"


def corpus_text_file(dest: Path) -> Path:
    lines = []
    for path in sorted(CORPUS.glob("*.txt")):
        lines += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = dest / "corpus.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def train_spm(text_file: Path, prefix: Path, vocab_size: int = 1000, user_symbols: list[str] | None = None) -> Path:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        input=str(text_file),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        character_coverage=1.0,
        model_type="unigram",
        user_defined_symbols=user_symbols or [],
        bos_id=-1,
        eos_id=1,
        unk_id=2,
        pad_id=0,
        minloglevel=2,
        num_threads=1,
        seed_sentencepiece_size=100000,
    )
    return prefix.with_suffix(".model")


def build_marian(dest: Path, workdir: Path, seed: int = 0, target_tokens: list[str] | None = None) -> Path:
    """A MarianMT model with a shared SentencePiece vocabulary trained on the corpus.

    `target_tokens` (e.g. [">>tha<<", ">>zsm<<"]) makes it a multi-target opus-mt style model.
    """
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    workdir.mkdir(parents=True, exist_ok=True)
    model_file = train_spm(corpus_text_file(workdir), workdir / "spm", user_symbols=target_tokens)
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if sp.id_to_piece(i) != "<pad>"]
    vocab = {piece: i for i, piece in enumerate(pieces)}
    vocab["<pad>"] = len(vocab)  # CTranslate2 expects <pad> last
    vocab_file = workdir / "vocab.json"
    vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = MarianTokenizer(
        source_spm=str(model_file), target_spm=str(model_file), vocab=str(vocab_file),
        source_lang="vi", target_lang="th", model_max_length=256,
    )
    torch.manual_seed(seed)
    config = MarianConfig(
        vocab_size=len(vocab), d_model=64, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
        max_position_embeddings=256, pad_token_id=vocab["<pad>"], eos_token_id=vocab["</s>"],
        decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=None,
        init_std=0.5,  # large enough that random outputs depend on the input
    )
    model = MarianMTModel(config).eval()
    model.generation_config.forced_eos_token_id = None
    model.generation_config.max_length = 64
    model.generation_config.num_beams = 1
    dest.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(dest)
    model.save_pretrained(dest)
    return dest


def build_nllb(dest: Path, workdir: Path, seed: int = 0) -> Path:
    """An NLLB-200-style model: NllbTokenizer with the FAIRSEQ language codes + a tiny M2M100 network.

    NllbTokenizer built from a bare SentencePiece model knows no language codes
    (tha_Thai would silently become <unk>), so they are passed explicitly.
    """
    import shutil

    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES

    workdir.mkdir(parents=True, exist_ok=True)
    model_file = train_spm(corpus_text_file(workdir), workdir / "spm", vocab_size=800)
    source = workdir / "nllb-src"
    source.mkdir(exist_ok=True)
    shutil.copy(model_file, source / "sentencepiece.bpe.model")
    tokenizer = NllbTokenizer.from_pretrained(source, extra_special_tokens=FAIRSEQ_LANGUAGE_CODES, model_max_length=256)
    torch.manual_seed(seed)
    config = M2M100Config(
        vocab_size=len(tokenizer), d_model=64, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
        max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id, decoder_start_token_id=tokenizer.eos_token_id, init_std=0.5,
    )
    model = M2M100ForConditionalGeneration(config).eval()
    model.generation_config.forced_eos_token_id = None
    dest.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(dest)
    model.save_pretrained(dest)
    return dest


def build_m2m100(dest: Path, workdir: Path, seed: int = 0) -> Path:
    """An M2M100 model with M2M100Tokenizer: languages as __vi__/__th__, kept outside the vocabulary."""
    import sentencepiece as spm
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, M2M100Tokenizer

    workdir.mkdir(parents=True, exist_ok=True)
    model_file = train_spm(corpus_text_file(workdir), workdir / "spm", vocab_size=800)
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    for token in ("<s>", "<pad>", "</s>", "<unk>"):
        vocab.setdefault(token, len(vocab))
    (workdir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = M2M100Tokenizer(vocab_file=str(workdir / "vocab.json"), spm_file=str(model_file),
                                src_lang="vi", tgt_lang="th", model_max_length=256)
    size = max(max(tokenizer.lang_token_to_id.values()), len(vocab)) + 1 + tokenizer.num_madeup_words
    torch.manual_seed(seed)
    config = M2M100Config(
        vocab_size=size, d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id, init_std=0.5,
    )
    model = M2M100ForConditionalGeneration(config).eval()
    model.generation_config.forced_eos_token_id = None
    dest.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(dest)
    model.save_pretrained(dest)
    return dest
