"""Token ids -> text: character offsets (byte-level BPE and SentencePiece-style), stop-string
trimming and fenced code blocks (rltf.policy.text). No model needed."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from rltf.policy.text import cut_tokens, decode, fenced_code_span, find_stop, token_offsets
from rltf.policy.tiny import train_bpe_tokenizer

CORPUS = (Path(__file__).parent / "fixtures" / "policy" / "corpus.py.txt").read_text("utf-8")


@pytest.fixture(scope="module")
def bpe():
    return train_bpe_tokenizer(CORPUS.split("\n\n"), vocab_size=400)


@pytest.fixture(scope="module")
def sentencepiece():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    trainer = trainers.UnigramTrainer(
        vocab_size=150, show_progress=False, unk_token="<unk>", special_tokens=["<unk>", "</s>"]
    )
    tok.train_from_iterator(CORPUS.split("\n\n") * 5, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="</s>")


def check_offsets(tokenizer, ids, text, offsets):
    """The invariants rltf.feedback relies on."""
    assert text == decode(tokenizer, ids)
    assert len(offsets) == len(ids)
    prev_start = 0
    covered = 0
    for s, e in offsets:
        assert 0 <= s <= e <= len(text)
        assert s >= prev_start, "starts must be non-decreasing"
        assert s <= covered, "no character may be left uncovered"
        prev_start, covered = s, max(covered, e)
    assert covered == len(text)
    # Each prefix of tokens decodes to the text up to its last complete character.
    for i, (_s, e) in enumerate(offsets):
        prefix = decode(tokenizer, ids[: i + 1])
        assert prefix.startswith(text[: offsets[i][0]])
        if prefix == text[:e]:
            continue
        assert prefix.endswith("\ufffd") and text[: len(prefix) - 1] == prefix[:-1]


def test_offsets_of_ascii_code_are_the_tokens_own_text(bpe):
    code = "def add(a, b):\n    return a + b\n"
    ids = bpe(code, add_special_tokens=False)["input_ids"]
    text, offsets = token_offsets(bpe, ids)
    assert text == code
    check_offsets(bpe, ids, text, offsets)
    assert [text[s:e] for s, e in offsets] == [decode(bpe, [i]) for i in ids]
    assert offsets[0][0] == 0 and offsets[-1][1] == len(code)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(offsets))  # disjoint


def test_multibyte_characters_split_across_byte_tokens_share_the_character_span(bpe):
    word = "😀"  # 4 UTF-8 bytes; the tokenizer has seen it only once, so it splits into bytes
    code = f"x = '{word}é✓'"
    ids = bpe(code, add_special_tokens=False)["input_ids"]
    text, offsets = token_offsets(bpe, ids)
    assert text == code
    check_offsets(bpe, ids, text, offsets)
    pos = code.index(word)
    partial = [i for i, tid in enumerate(ids) if "\ufffd" in decode(bpe, [tid])]
    assert partial, "expected some tokens holding part of a multi-byte character"
    # every token that touches the emoji covers the emoji's whole span
    touching = [(s, e) for s, e in offsets if s <= pos < e]
    assert len(touching) >= 2
    assert all(s <= pos and e >= pos + 1 for s, e in touching)


def test_offsets_of_random_byte_sequences_keep_the_invariants(bpe):
    rng = random.Random(0)
    vocab = len(bpe)
    for _ in range(50):
        ids = [rng.randrange(vocab) for _ in range(rng.randrange(1, 30))]
        text, offsets = token_offsets(bpe, ids)
        check_offsets(bpe, ids, text, offsets)


def test_special_tokens_have_empty_spans(bpe):
    ids = [*bpe("ab", add_special_tokens=False)["input_ids"], bpe.eos_token_id]
    text, offsets = token_offsets(bpe, ids)
    assert text == "ab" and offsets[-1] == (2, 2)


def test_sentencepiece_offsets_include_the_word_boundary_space(sentencepiece):
    code = "def add(a, b):\n    return a + b"
    ids = sentencepiece(code, add_special_tokens=False)["input_ids"]
    text, offsets = token_offsets(sentencepiece, ids)
    check_offsets(sentencepiece, ids, text, offsets)
    pieces = sentencepiece.convert_ids_to_tokens(ids)
    for (s, e), piece in zip(offsets, pieces, strict=True):
        expected = piece.replace("▁", " ")
        if s == 0:
            expected = expected.lstrip(" ")  # the decoder drops the first word's space
        assert text[s:e] == expected


def test_find_stop_takes_the_earliest_of_all_stop_strings():
    text = "    return x\nprint(1)\ndef g():"
    assert find_stop(text, ("\ndef ", "\nprint")) == text.index("\nprint")
    assert find_stop(text, ("\nclass",)) is None
    assert find_stop(text, ()) is None


def test_cut_keeps_the_straddling_token_clipped_and_drops_the_rest():
    offsets = [(0, 3), (3, 6), (6, 9), (9, 9)]
    assert cut_tokens(offsets, 4) == [(0, 3), (3, 4)]
    assert cut_tokens(offsets, 6) == [(0, 3), (3, 6)]  # a token starting at the cut is dropped
    assert cut_tokens(offsets, 0) == []
    # tokens sharing a multi-byte character's span stay together
    assert cut_tokens([(0, 1), (0, 1), (1, 2)], 1) == [(0, 1), (0, 1)]


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("Here:\n```python\nx = 1\n```\nDone", "x = 1\n"),
        ("```\nprint(2)\n```", "print(2)\n"),
        ("intro\n```text\nnot code\n```\n```py\ny = 2\n```", "y = 2\n"),
        ("```python\ndef f():\n    return 1", "def f():\n    return 1"),  # cut mid-block
        ("no fence at all", "no fence at all"),
        ("```py\nx = 1\n```", "x = 1\n"),
        ("```python\na\n```\n```python\nb\n```", "a\n"),  # the first block
        ("Sure.\n```python\nprint(2)\n", "print(2)\n"),  # cut off: to the end
    ],
)
def test_fenced_code_span(answer, code):
    start, end = fenced_code_span(answer)
    assert answer[start:end] == code
