"""Generation on tiny GPT-2 (causal) and T5 (encoder-decoder) models: Sample fields, offsets,
log-probs equal to the learner's, stop strings, truncation, EOS, greedy/seeded determinism and
fenced-code extraction."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rltf.policy import GenerationConfig, Policy, build_tiny_model, load_policy
from rltf.policy.text import decode
from rltf.tasks.prompts import Prompt

CORPUS = (Path(__file__).parent / "fixtures" / "policy" / "corpus.py.txt").read_text("utf-8")
PROMPTS = [
    Prompt("def add(a, b):\n"),
    Prompt("x = 'héllo"),
    Prompt("class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n"),
]
IDS = ["add", "hello", "two-sum"]


@pytest.fixture(scope="module", params=["gpt2", "t5"])
def policy(request, tmp_path_factory) -> Policy:
    path = build_tiny_model(
        tmp_path_factory.mktemp(request.param), CORPUS.split("\n\n"), arch=request.param,
        vocab_size=400, n_layer=2, n_embd=64, seed=0,
    )  # fmt: skip
    return load_policy(str(path))


@contextlib.contextmanager
def force(policy: Policy, token_ids: list[int], row: int | None = None):
    """Make the model emit ``token_ids`` (one per forward call; in every row, or only ``row``),
    whatever it would have sampled: a large bias on the output logits of the next forced token."""
    calls = iter(token_ids)
    rows = slice(None) if row is None else slice(row, row + 1)

    def hook(_module, _inputs, logits):
        target = next(calls, None)
        if target is not None:
            logits = logits.clone()
            logits[rows, ..., target] += 1e4
        return logits

    handle = policy.model.get_output_embeddings().register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def assert_consistent(policy: Policy, sample, stops=()):
    full = decode(policy.tokenizer, sample.token_ids)
    assert full.startswith(sample.text)
    if not stops:
        assert full == sample.text
    assert len(sample.offsets) == len(sample.token_ids) == len(sample.logprobs)
    covered = 0
    for s, e in sample.offsets:
        assert 0 <= s <= e <= len(sample.text) and s <= covered
        covered = max(covered, e)
    assert covered == len(sample.text)


def test_samples_are_grouped_by_prompt_with_their_fields(policy):
    gen = GenerationConfig(max_new_tokens=12, seed=1, batch_size=4)
    samples = policy.generate(PROMPTS, IDS, gen, n=3)
    assert [(s.problem_id, s.sample_index) for s in samples] == [
        (pid, k) for pid in IDS for k in range(3)
    ]
    for s, prompt in zip(samples, [p for p in PROMPTS for _ in range(3)], strict=True):
        assert s.prompt_ids == tuple(policy.encode_prompt(prompt))
        assert s.policy_version == policy.version and not s.greedy
        assert 1 <= len(s.token_ids) <= 12
        assert all(lp <= 0 for lp in s.logprobs)
        assert_consistent(policy, s)
    # a random tiny model wanders through arbitrary bytes: partial multi-byte characters occur
    assert any("\ufffd" in decode(policy.tokenizer, [t]) for s in samples for t in s.token_ids)


def test_generation_logprobs_equal_learner_logprobs_with_left_padding(policy):
    """Prompts of different lengths in one batch (left padding for causal models); the learner
    recomputes them in a different batch composition and order, at the sampling temperature
    (the recorded log-probs are those of softmax(logits / T), the distribution sampled from)."""
    gen = GenerationConfig(max_new_tokens=16, seed=0, batch_size=16, temperature=1.3, top_p=0.9)
    samples = policy.generate(PROMPTS, IDS, gen, n=2)
    order = [5, 0, 3, 1, 4, 2]
    prompts = [samples[i].prompt_ids for i in order]
    tokens = [samples[i].token_ids for i in order]
    learner = policy.token_logprobs(prompts, tokens, temperature=1.3)
    for i, lp in zip(order, learner, strict=True):
        assert lp.shape == (len(samples[i].token_ids),)
        torch.testing.assert_close(
            lp.detach(), torch.tensor(samples[i].logprobs), atol=2e-5, rtol=0
        )
    with torch.no_grad():  # at temperature 1 they differ: the temperature really is applied
        raw = policy.token_logprobs(prompts, tokens)
    assert (
        max(float((a - b.detach()).abs().max()) for a, b in zip(raw, learner, strict=True)) > 1e-3
    )
    # differentiable: a loss on them reaches the weights
    sum(lp.sum() for lp in learner).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.model.parameters())
    policy.model.zero_grad(set_to_none=True)


def test_greedy_is_deterministic_and_picks_the_most_likely_token(policy):
    gen = GenerationConfig(max_new_tokens=10, do_sample=False)
    a = policy.generate(PROMPTS, IDS, gen)
    b = policy.generate(PROMPTS[::-1], IDS[::-1], replace(gen, batch_size=1))
    assert [s.token_ids for s in a] == [s.token_ids for s in b[::-1]]
    assert all(s.greedy for s in a)
    # the greedy first token is the argmax over every candidate first token
    s = a[0]
    vocab = len(policy.tokenizer)
    with torch.no_grad():
        every = policy.token_logprobs([s.prompt_ids] * vocab, [[t] for t in range(vocab)])
    scores = torch.cat(every)
    assert int(scores.argmax()) == s.token_ids[0]
    assert scores.max().item() == pytest.approx(s.logprobs[0], abs=1e-5)


def test_greedy_matches_transformers_generate(policy):
    gen = GenerationConfig(max_new_tokens=10, do_sample=False)
    for s in policy.generate(PROMPTS, IDS, gen):
        ids = torch.tensor([s.prompt_ids])
        out = policy.model.generate(
            ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=10
        )[0].tolist()
        out = out[1:] if policy.is_seq2seq else out[len(s.prompt_ids) :]  # decoder start / prompt
        assert tuple(out[: len(s.token_ids)]) == s.token_ids


def test_seed_reproduces_samples_and_other_seeds_differ(policy):
    gen = GenerationConfig(max_new_tokens=10, seed=7)
    a = policy.generate(PROMPTS, IDS, gen, n=2)
    b = policy.generate(PROMPTS, IDS, gen, n=2)
    c = policy.generate(PROMPTS, IDS, replace(gen, seed=8), n=2)
    assert [s.token_ids for s in a] == [s.token_ids for s in b]
    assert [s.token_ids for s in a] != [s.token_ids for s in c]


def test_length_limit_sets_truncated(policy):
    samples = policy.generate(PROMPTS, IDS, GenerationConfig(max_new_tokens=5, seed=0), n=2)
    for s in samples:
        eos = s.token_ids[-1] in policy.eos_ids
        assert s.truncated == (not eos)
        assert len(s.token_ids) == 5 or eos


def test_eos_ends_a_row_without_truncation_and_other_rows_continue(policy):
    eos = policy.tokenizer.eos_token_id
    hello = policy.tokenizer("hi", add_special_tokens=False)["input_ids"]
    gen = GenerationConfig(max_new_tokens=8, seed=0)
    # batches are grouped by prompt length (stable): the shorter prompt takes batch row 0
    lengths = [len(policy.encode_prompt(p)) for p in PROMPTS[:2]]
    row = sorted(range(2), key=lengths.__getitem__).index(0)
    with force(policy, [*hello, eos], row=row):
        first, other = policy.generate(PROMPTS[:2], IDS[:2], gen)
    assert first.token_ids == (*hello, eos) and first.text == "hi"
    assert not first.truncated and first.offsets[-1] == (2, 2)
    assert first.logprobs[-1] == pytest.approx(0.0, abs=1e-3)  # EOS's log-prob is recorded
    assert_consistent(policy, first)
    if other.token_ids[-1] not in policy.eos_ids:
        assert len(other.token_ids) == 8 and other.truncated
    with torch.no_grad():  # the unforced row is an ordinary sample
        lp = policy.token_logprobs([other.prompt_ids], [other.token_ids])[0]
    torch.testing.assert_close(lp, torch.tensor(other.logprobs), atol=2e-5, rtol=0)


def test_stop_string_trims_text_tokens_offsets_and_logprobs_consistently(policy):
    gen = GenerationConfig(max_new_tokens=24, seed=3)
    (free,) = policy.generate(PROMPTS[:1], IDS[:1], gen)
    # a stop string that starts inside a multi-character token: that token straddles the cut
    text = free.text
    for index, (s, e) in enumerate(free.offsets):
        stop = text[s + 1 : s + 4]
        if e - s >= 2 and len(stop) == 3 and text.find(stop) == s + 1 and "\ufffd" not in stop:
            i = index
            break
    else:
        pytest.skip("no token of >= 2 characters in this sample")  # pragma: no cover
    cut = s + 1
    (stopped,) = policy.generate([replace(PROMPTS[0], stop=(stop,))], IDS[:1], gen)
    assert stopped.text == text[:cut]
    assert stopped.token_ids == free.token_ids[: i + 1]
    assert stopped.logprobs == free.logprobs[: i + 1]
    assert stopped.offsets == (*free.offsets[:i], (s, cut))
    assert not stopped.truncated
    assert_consistent(policy, stopped, stops=(stop,))
    # GenerationConfig.stop applies too, and the earliest of all stop strings wins
    (both,) = policy.generate(PROMPTS[:1], IDS[:1], replace(gen, stop=(stop, text[:1] or "x")))
    assert both.text == "" and both.token_ids == ()


def test_chat_answer_code_block_offsets(policy):
    answer = "Sure:\n```python\nx = 1\n```\nbye"
    ids = policy.tokenizer(answer, add_special_tokens=False)["input_ids"]
    prompt = Prompt("Write x.", program_prefix="import sys\n", extract_code=True)
    with force(policy, [*ids, policy.tokenizer.eos_token_id]):
        (s,) = policy.generate([prompt], ["chat"], GenerationConfig(max_new_tokens=64))
    assert s.text == answer
    assert s.text[s.code_start : s.code_end] == "x = 1\n"
    assert s.program == "import sys\nx = 1\n"
    assert s.program_prefix == "import sys\n"


def test_bad_arguments_are_reported(policy):
    with pytest.raises(ValueError, match="prompts but"):
        policy.generate(PROMPTS, IDS[:1], GenerationConfig())
    with pytest.raises(ValueError, match="top_p"):
        policy.generate(PROMPTS, IDS, GenerationConfig(top_p=0))
    with pytest.raises(ValueError, match="prompts but"):
        policy.token_logprobs([[1]], [])
    if not policy.is_seq2seq:  # GPT-2 has learned positions: its context is a hard limit
        with pytest.raises(ValueError, match=r"'add'.*context of 1024"):
            policy.generate(PROMPTS[:1], IDS[:1], GenerationConfig(max_new_tokens=1020))


def test_max_prompt_tokens_keeps_the_end_of_the_prompt(policy):
    ids = policy.encode_prompt(PROMPTS[2])
    (s,) = policy.generate(
        PROMPTS[2:], IDS[2:], GenerationConfig(max_new_tokens=2, max_prompt_tokens=4)
    )
    assert s.prompt_ids == tuple(ids[-4:])
