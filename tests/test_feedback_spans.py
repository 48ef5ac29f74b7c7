"""Line -> token spans on real tokenizers trained here (byte-level BPE and SentencePiece-style
Unigram/Metaspace): multi-byte characters, CRLF, tabs, duplicated lines, HumanEval prefixes and
code extracted from a chat answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from rltf.feedback import error_token_span, line_char_range, program_token_span
from rltf.records import Sample

CORPUS = [
    "def solve(n):\n    return [i * i for i in range(n)]\n",
    "import sys\nfor line in sys.stdin:\n\tprint(line.strip())\r\n",
    "s = 'héllo wörld 日本語 ✓'\nprint(s[::-1])\n",
    "x = int(input())\nif x > 0:\n    print(x)\nelse:\n    print(-x)\n",
    "Here is the code:\n```python\nprint(1)\n```\nDone.\n",
    'def f(a):\n    """Return a."""\n    return a\n',
    "digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99]\n",
]

Encoder = Callable[[str], tuple[list[int], list[tuple[int, int]]]]


def train_byte_bpe() -> Encoder:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(CORPUS * 10, trainer)

    def encode(text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = tok.encode(text)
        assert tok.decode(enc.ids) == text  # byte-level BPE round-trips any text
        return enc.ids, enc.offsets

    return encode


def train_unigram_metaspace() -> Encoder:
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    trainer = trainers.UnigramTrainer(
        vocab_size=200, show_progress=False, unk_token="<unk>", special_tokens=["<unk>"]
    )
    tok.train_from_iterator(CORPUS * 10, trainer)

    def encode(text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = tok.encode(text)
        return enc.ids, enc.offsets

    return encode


@pytest.fixture(scope="module", params=["byte-bpe", "unigram-metaspace"])
def encode(request: pytest.FixtureRequest) -> Encoder:
    return train_byte_bpe() if request.param == "byte-bpe" else train_unigram_metaspace()


def make_sample(
    encode: Encoder, text: str, prefix: str = "", code: tuple[int, int | None] = (0, None)
) -> Sample:
    ids, offsets = encode(text)
    return Sample(
        problem_id="p",
        prompt_ids=(),
        token_ids=tuple(ids),
        text=text,
        offsets=tuple((a, b) for a, b in offsets),
        logprobs=(0.0,) * len(ids),
        truncated=False,
        policy_version=0,
        program_prefix=prefix,
        code_start=code[0],
        code_end=code[1],
    )


def expected_span(sample: Sample, line: int) -> tuple[int, int] | None:
    """Brute force: every token whose characters include a character of the line (line break
    included) that the policy generated."""
    rng = line_char_range(sample.program, line)
    assert rng is not None
    chars = {
        sample.text_position(p)
        for p in range(*rng)
        if p >= len(sample.program_prefix)  # generated characters only
    }
    hits = [i for i, (a, b) in enumerate(sample.offsets) if chars & set(range(a, b))]
    if not hits:
        return None
    assert hits == list(range(hits[0], hits[-1] + 1)), "a line's tokens are contiguous"
    return hits[0], hits[-1]


def covered(sample: Sample, span: tuple[int, int]) -> str:
    return sample.text[sample.offsets[span[0]][0] : sample.offsets[span[1]][1]]


def test_multibyte_characters(encode: Encoder) -> None:
    text = "s = 'wörld 日本語 ✓'\nx = s[99]\nprint('✓')\n"
    s = make_sample(encode, text)
    for line in (1, 2, 3):
        assert error_token_span(s, line) == expected_span(s, line)
    span = error_token_span(s, 2)
    assert span is not None and "x = s[99]" in covered(s, span)
    assert "日" not in covered(s, span) and "✓" not in covered(s, span)


def test_crlf_and_tabs(encode: Encoder) -> None:
    text = "for line in data:\r\n\tvalue = line[5]\r\n\tprint(value)\r\n"
    s = make_sample(encode, text)
    for line in (1, 2, 3):
        assert error_token_span(s, line) == expected_span(s, line)
    span = error_token_span(s, 2)
    assert span is not None and "value = line[5]" in covered(s, span)
    assert "print" not in covered(s, span) and "for" not in covered(s, span)


def test_duplicated_line_error_on_second_copy(encode: Encoder) -> None:
    text = "a = [1]\nx = a[5]\nprint(a)\nx = a[5]\n"
    s = make_sample(encode, text)
    first, second = error_token_span(s, 2), error_token_span(s, 4)
    assert first is not None and second is not None
    assert second == expected_span(s, 4)
    # No token of the first copy is in the second copy's span, and every token of that span
    # touches line 4 (the official code's text search would have found the first copy).
    line4_start = text.rindex("x = a[5]")
    assert second[0] > first[1]
    assert all(s.offsets[i][1] > line4_start for i in range(second[0], second[1] + 1))
    assert covered(s, second).strip() == "x = a[5]"


def test_humaneval_prefix(encode: Encoder) -> None:
    prefix = 'def f(a):\n    """Return a."""\n'
    completion = "    b = a[3]\n    return b\n"
    s = make_sample(encode, completion, prefix=prefix)
    assert s.program == prefix + completion
    assert error_token_span(s, 1) is None  # the def line was not generated
    assert error_token_span(s, 2) is None
    span = error_token_span(s, 3)
    assert span == expected_span(s, 3)
    assert span is not None and covered(s, span).strip() == "b = a[3]"
    assert error_token_span(s, 9) is None  # no such line
    assert program_token_span(s) == (0, len(s.token_ids) - 1)


def test_prefix_that_ends_mid_line(encode: Encoder) -> None:
    prefix = "def f(a):\n    return"
    completion = " a[3]\n"
    s = make_sample(encode, completion, prefix=prefix)
    span = error_token_span(s, 2)
    assert span == expected_span(s, 2)
    assert span is not None and "a[3]" in covered(s, span)


def test_code_extracted_from_a_chat_answer(encode: Encoder) -> None:
    code = "x = 1\ny = [x][2]\n"
    text = f"Here is the code:\n```python\n{code}```\nDone."
    start = text.index(code)
    s = make_sample(encode, text, code=(start, start + len(code)))
    assert s.program == code
    span = error_token_span(s, 2)
    assert span == expected_span(s, 2)
    assert span is not None and "y = [x][2]" in covered(s, span)
    # A token straddling the end of the code (e.g. "\n```") counts, prose never does.
    assert "x = 1" not in covered(s, span) and "Done" not in covered(s, span)
    whole = program_token_span(s)
    assert whole is not None
    assert "Here" not in covered(s, whole) and "Done" not in covered(s, whole)
    assert "x = 1" in covered(s, whole) and "[2]" in covered(s, whole)


def char_sample(text: str, prefix: str = "", extra: tuple[tuple[int, int], ...] = ()) -> Sample:
    offsets = tuple((i, i + 1) for i in range(len(text))) + extra
    n = len(offsets)
    return Sample(
        "p", (), tuple(range(n)), text, offsets, (0.0,) * n, False, 0, program_prefix=prefix
    )


def test_line_ranges_follow_python_line_numbering() -> None:
    assert line_char_range("a\nbb\r\nc\rd", 1) == (0, 2)
    assert line_char_range("a\nbb\r\nc\rd", 2) == (2, 6)
    assert line_char_range("a\nbb\r\nc\rd", 3) == (6, 8)
    assert line_char_range("a\nbb\r\nc\rd", 4) == (8, 9)
    assert line_char_range("a\nbb\r\nc\rd", 5) is None
    assert line_char_range("a\n", 0) is None
    assert line_char_range("a\u2028b\n", 1) == (0, 4)  # U+2028 is not a Python line break


def test_zero_width_tokens_overlap_no_line_but_belong_to_the_program() -> None:
    s = char_sample("ab\ncd\n", extra=((6, 6),))  # a trailing end-of-sequence token
    assert error_token_span(s, 2) == (3, 5)
    assert program_token_span(s) == (0, 6)
    assert program_token_span(char_sample("")) is None


def test_a_token_straddling_a_line_boundary_counts_for_both_lines() -> None:
    # tokens: "x = 1" ":\n  " "y"  — the middle one ends line 1 and indents line 2
    text = "x = 1:\n  y\n"
    offsets = ((0, 5), (5, 9), (9, 11))
    s = Sample("p", (), (0, 1, 2), text, offsets, (0.0,) * 3, False, 0)
    assert error_token_span(s, 1) == (0, 1)
    assert error_token_span(s, 2) == (1, 2)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ab =[]()日✓\t", min_size=0, max_size=6),
            st.sampled_from(["\n", "\r\n", "\r"]),
        ),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.integers(min_value=1, max_value=4), min_size=40, max_size=40),
    st.integers(min_value=0, max_value=8),
)
def test_span_equals_brute_force_for_any_chunking(
    lines: list[tuple[str, str]], cuts: list[int], prefix_len: int
) -> None:
    program = "".join(body + brk for body, brk in lines)
    prefix, text = program[:prefix_len], program[prefix_len:]
    offsets, pos, k = [], 0, 0
    while pos < len(text):
        step = cuts[k % len(cuts)]
        offsets.append((pos, min(pos + step, len(text))))
        pos, k = pos + step, k + 1
    n = len(offsets)
    s = Sample("p", (), tuple(range(n)), text, tuple(offsets), (0.0,) * n, False, 0, prefix)
    for line in range(1, len(lines) + 2):
        if line_char_range(s.program, line) is None:
            assert error_token_span(s, line) is None
        else:
            assert error_token_span(s, line) == expected_span(s, line)


@pytest.mark.parametrize("kind", ["byte-bpe", "unigram-metaspace"])
def test_offsets_from_the_policy_decoder(kind: str) -> None:
    """End to end with the policy's own offsets (rltf.policy.text.token_offsets, computed from the
    sampled ids alone): the span of every line equals the brute-force overlap, including a
    multi-byte line, a CRLF line, a tab-indented line and the second copy of a duplicated line."""
    from transformers import PreTrainedTokenizerFast

    from rltf.policy.text import token_offsets

    tok = Tokenizer(models.BPE()) if kind == "byte-bpe" else Tokenizer(models.Unigram())
    if kind == "byte-bpe":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer: trainers.Trainer = trainers.BpeTrainer(
            vocab_size=400,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
            special_tokens=["<eos>"],
        )
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
        trainer = trainers.UnigramTrainer(
            vocab_size=200,
            show_progress=False,
            unk_token="<unk>",
            special_tokens=["<unk>", "<eos>"],
        )
    tok.train_from_iterator(CORPUS * 10, trainer)
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>")
    program = "s = 'wörld 日本語'\r\nfor line in s:\n\tx = s[99]\nprint(s)\n\tx = s[99]\n"
    ids = [*hf.encode(program, add_special_tokens=False), hf.eos_token_id]  # as if sampled
    text, offsets = token_offsets(hf, ids)
    assert text == program
    s = Sample("p", (), tuple(ids), text, tuple(offsets), (0.0,) * len(ids), False, 0)
    for line in range(1, 6):
        assert error_token_span(s, line) == expected_span(s, line)
    third, fifth = error_token_span(s, 3), error_token_span(s, 5)
    assert third is not None and fifth is not None and fifth[0] > third[1]
    assert program_token_span(s) == (0, len(ids) - 1)  # the end-of-sequence token included
