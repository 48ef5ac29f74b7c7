"""Tiny models for tests and CPU demos: a byte-level BPE tokenizer trained on a corpus plus a small
randomly initialised GPT-2 (causal) or T5 (encoder-decoder), saved as an ordinary Hugging Face
directory, so everything downstream loads it with ``AutoModel*.from_pretrained`` like any model.

Byte-level BPE (GPT-2's scheme) covers every string, so a tiny vocabulary never produces ``<unk>``
and multi-byte characters exercise the same token/character bookkeeping as real code models.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import torch

PAD, BOS, EOS = "<pad>", "<s>", "</s>"
# Fixed ids: 0 pad (T5 also uses it as decoder_start_token_id, as in the T5 paper), 1 bos, 2 eos.
SPECIAL_TOKENS = (PAD, BOS, EOS)

Arch = Literal["gpt2", "t5"]


def train_bpe_tokenizer(corpus: Iterable[str], vocab_size: int = 512, arch: Arch = "gpt2"):  # type: ignore[no-untyped-def]
    """Train a byte-level BPE tokenizer on ``corpus`` and wrap it for transformers.

    Causal models get ``<s>`` prepended to every encoded prompt (so an empty prompt still has a
    token to condition on); T5 gets ``</s>`` appended to encoder inputs, as its own tokenizer does.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    texts = [t for t in corpus if t]
    if not texts:
        raise ValueError("build_tiny_model: the corpus is empty")
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if vocab_size < len(alphabet) + len(SPECIAL_TOKENS):
        raise ValueError(
            f"vocab_size={vocab_size} is too small: byte-level BPE needs at least "
            f"{len(alphabet) + len(SPECIAL_TOKENS)} (256 bytes + {len(SPECIAL_TOKENS)} specials)"
        )
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=alphabet,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos_id, eos_id = tok.token_to_id(BOS), tok.token_to_id(EOS)
    if arch == "gpt2":
        tok.post_processor = processors.TemplateProcessing(
            single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, bos_id)]
        )
    else:
        tok.post_processor = processors.TemplateProcessing(
            single=f"$A {EOS}", pair=f"$A {EOS} $B {EOS}", special_tokens=[(EOS, eos_id)]
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        clean_up_tokenization_spaces=False,  # never rewrite " ." etc. in code
        model_max_length=1024,
    )


def build_tiny_model(
    out_dir: str | Path,
    corpus: Iterable[str],
    arch: Arch = "gpt2",
    vocab_size: int = 512,
    n_layer: int = 2,
    n_embd: int = 64,
    n_head: int = 4,
    n_positions: int = 1024,
    seed: int = 0,
    dropout: float = 0.0,
) -> Path:
    """Train a tokenizer on ``corpus``, create a small ``arch`` model and save both to ``out_dir``.

    Deterministic given ``corpus`` and ``seed`` (the global RNG is left untouched). Returns the
    directory, loadable with :func:`rltf.policy.load_policy`. ``dropout`` defaults to 0 so that
    the learner's log-probs in train mode equal the sampler's (RL fine-tuning usually disables
    dropout for this reason, e.g. TRL).
    """
    from transformers import GPT2Config, GPT2LMHeadModel, T5Config, T5ForConditionalGeneration

    if arch not in ("gpt2", "t5"):
        raise ValueError(f"build_tiny_model: unknown arch {arch!r} (expected 'gpt2' or 't5')")
    if n_embd % n_head:
        raise ValueError(f"build_tiny_model: n_embd={n_embd} is not divisible by n_head={n_head}")
    tokenizer = train_bpe_tokenizer(corpus, vocab_size, arch)
    ids = {name: tokenizer.convert_tokens_to_ids(name) for name in SPECIAL_TOKENS}
    model: torch.nn.Module
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if arch == "gpt2":
            gcfg = GPT2Config(
                vocab_size=len(tokenizer),
                n_positions=n_positions,
                n_embd=n_embd,
                n_layer=n_layer,
                n_head=n_head,
                bos_token_id=ids[BOS],
                eos_token_id=ids[EOS],
                pad_token_id=ids[PAD],
                resid_pdrop=dropout,
                embd_pdrop=dropout,
                attn_pdrop=dropout,
            )
            model = GPT2LMHeadModel(gcfg)
        else:
            tcfg = T5Config(
                vocab_size=len(tokenizer),
                d_model=n_embd,
                d_kv=n_embd // n_head,
                d_ff=4 * n_embd,
                num_layers=n_layer,
                num_heads=n_head,
                pad_token_id=ids[PAD],
                eos_token_id=ids[EOS],
                dropout_rate=dropout,
            )
            # transformers 5: generate() and the learner need it; T5 starts decoding from <pad>.
            tcfg.decoder_start_token_id = ids[PAD]
            model = T5ForConditionalGeneration(tcfg)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


__all__ = ["build_tiny_model", "train_bpe_tokenizer"]
