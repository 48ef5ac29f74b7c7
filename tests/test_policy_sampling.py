"""The sampler's pieces: the top-k prefilter for top-p (exact vs the full sort, fallback included),
incremental stop detection (same cuts as the full re-decode, multi-byte characters included),
length-grouped batches (order and seeds), the bf16 generation copy and the learner's autocast."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rltf.policy import GenerationConfig, Policy, build_tiny_model, load_policy
from rltf.policy.precision import GenerationModel, resolve_compute_dtype
from rltf.policy.sampling import Nucleus, top_k_filter, top_p_filter
from rltf.policy.stops import IncrementalStops, first_stop_step
from rltf.tasks.prompts import Prompt

CORPUS = (Path(__file__).parent / "fixtures" / "policy" / "corpus.py.txt").read_text("utf-8")


def support_of_nucleus(nucleus: Nucleus, scaled: torch.Tensor, draws: int) -> torch.Tensor:
    """Which tokens the prefilter can draw, read off its kept mask by drawing many times."""
    seen = torch.zeros_like(scaled, dtype=torch.bool)
    gen = torch.Generator().manual_seed(0)
    for _ in range(draws):
        tok = nucleus.sample(torch.log_softmax(scaled, -1), gen)
        seen[torch.arange(len(tok)), tok] = True
    return seen


@pytest.mark.parametrize("top_p", [0.5, 0.9, 0.95])
def test_prefilter_keeps_exactly_the_full_sort_nucleus(top_p):
    """Peaked rows (nucleus inside the 64 candidates) and flat rows (fallback to the full sort)
    in one batch: the distribution sampled is the full sort's, row by row."""
    torch.manual_seed(0)
    peaked = torch.randn(6, 3000) * 6  # a few tokens hold the mass
    flat = torch.randn(2, 3000) * 0.1  # the nucleus spans thousands of tokens
    scaled = torch.cat([peaked, flat])
    reference = torch.softmax(top_p_filter(scaled, top_p), -1)
    nucleus = Nucleus(top_p, candidates=64)
    # the kept mass the prefilter samples from, reconstructed as in Nucleus.sample
    _, index = scaled.topk(64, dim=-1)
    probs = torch.softmax(scaled, -1).gather(-1, index)
    cum = probs.cumsum(-1)
    fits = cum[:, -1] >= top_p
    assert fits[:6].all() and not fits[6:].any()  # both paths are exercised
    keep = (cum - probs) < top_p
    for b in range(6):
        mine = torch.zeros(3000, dtype=torch.bool)
        mine[index[b][keep[b]]] = True
        assert torch.equal(mine, reference[b] > 0)
    # the sampled tokens are always inside the reference support, fallback rows included
    seen = support_of_nucleus(nucleus, scaled, draws=50)
    assert not (seen & (reference == 0)).any()
    assert nucleus.fallbacks >= 2 and nucleus.k > 64  # the flat rows grew the candidate width


def test_prefilter_draws_follow_the_renormalised_nucleus():
    """Empirical frequencies match the full-sort distribution (chi-square-free: 4 tokens)."""
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.04, 0.01] + [1e-6] * 95]))
    scaled = logits.repeat(20000, 1)
    logp = torch.log_softmax(scaled, -1)
    tokens = Nucleus(0.9, candidates=8).sample(logp, torch.Generator().manual_seed(1))
    freq = torch.bincount(tokens, minlength=100).float() / len(tokens)
    expected = torch.softmax(top_p_filter(scaled[:1], 0.9), -1)[0]
    assert set(tokens.unique().tolist()) == {0, 1, 2}
    torch.testing.assert_close(freq, expected, atol=0.015, rtol=0)


def test_top_k_then_top_p_as_transformers_orders_them():
    torch.manual_seed(3)
    scaled = torch.randn(4, 500)
    reference = torch.softmax(top_p_filter(top_k_filter(scaled, 5), 0.8), -1)
    seen = support_of_nucleus(Nucleus(0.8, top_k=5), scaled, draws=200)
    assert torch.equal(seen, reference > 0)  # 200 draws over <= 5 tokens see them all
    # top_p = 1 with top_k: exactly the top-k tokens
    seen = support_of_nucleus(Nucleus(1.0, top_k=3), scaled, draws=200)
    assert torch.equal(seen.sum(-1), torch.full((4,), 3))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Policy:
    path = build_tiny_model(
        tmp_path_factory.mktemp("gpt2"), CORPUS.split("\n\n"), arch="gpt2",
        vocab_size=400, n_layer=2, n_embd=64, seed=0,
    )  # fmt: skip
    return load_policy(str(path))


def test_incremental_stops_fire_at_the_same_step_as_a_full_re_decode(tiny):
    """Random id sequences of a byte-level tokenizer (partial multi-byte characters included):
    the detector ends each row at the first step whose full decode contains a stop."""
    tok = tiny.tokenizer
    rng = random.Random(0)
    vocab = len(tok)
    multi = [t for t in range(vocab) if "\ufffd" in tok.decode([t])]
    assert multi  # the tiny tokenizer splits é into byte tokens
    stops = ("é", "\n\n", "ret", "x")
    rows = []
    for _ in range(40):
        rows.append([rng.choice(multi) if rng.random() < 0.3 else rng.randrange(vocab)
                     for _ in range(30)])  # fmt: skip
    rows.append(tok("abc é\n\nreturn", add_special_tokens=False)["input_ids"])
    detector = IncrementalStops(tok, [stops] * len(rows))
    fired: dict[int, int] = {}
    for step in range(30):
        active = [b not in fired and step < len(r) for b, r in enumerate(rows)]
        tokens = [r[step] if step < len(r) else 0 for r in rows]
        for b in detector.feed(tokens, active):
            fired[b] = step
    expected = {
        b: s for b, r in enumerate(rows) if (s := first_stop_step(tok, r, stops)) is not None
    }
    assert fired == expected
    assert len(expected) >= 8 and 40 in expected  # the comparison is not vacuous


def test_generate_with_a_multibyte_stop_cuts_where_the_text_first_contains_it(tiny):
    gen = GenerationConfig(max_new_tokens=30, seed=5)
    free = tiny.generate([Prompt("x = 'h")] * 4, list("abcd"), gen)
    stop = next((c for s in free for c in s.text if ord(c) > 127 and c != "\ufffd"), None)
    if stop is None:  # pragma: no cover - depends on the tiny model's draws
        pytest.fail("no multi-byte character in the free samples; change the seed")
    cut = tiny.generate([Prompt("x = 'h", stop=(stop,))] * 4, list("abcd"), gen)
    for f, c in zip(free, cut, strict=True):
        i = f.text.find(stop)
        assert c.text == (f.text if i < 0 else f.text[:i])
        assert f.token_ids[: len(c.token_ids)] == c.token_ids


def test_length_grouping_keeps_sample_order_and_seeds(tiny):
    prompts = [Prompt("a" * n) for n in (30, 1, 12, 5, 20)]
    ids = [f"p{n}" for n in range(5)]
    gen = GenerationConfig(max_new_tokens=6, seed=11, batch_size=4)
    a = tiny.generate(prompts, ids, gen, n=2)
    assert [(s.problem_id, s.sample_index) for s in a] == [(i, k) for i in ids for k in range(2)]
    assert [s.prompt_ids for s in a] == [
        tuple(tiny.encode_prompt(p)) for p in prompts for _ in "ab"
    ]
    b = tiny.generate(prompts, ids, gen, n=2)
    assert [s.token_ids for s in a] == [s.token_ids for s in b]
    # each batch sees prompts of similar length: greedy results do not depend on batching
    greedy = replace(gen, do_sample=False)
    one = tiny.generate(prompts, ids, replace(greedy, batch_size=1))
    assert [s.token_ids for s in tiny.generate(prompts, ids, greedy)] == [s.token_ids for s in one]


def test_bf16_generation_copy_follows_weight_updates(tiny):
    cache = GenerationModel()
    model = tiny.model
    assert cache.get(model, torch.float32) is model
    copy = cache.get(model, torch.bfloat16)
    assert next(copy.parameters()).dtype == torch.bfloat16 and cache.refreshes == 0
    assert cache.get(model, torch.bfloat16) is copy and cache.refreshes == 0  # nothing changed
    param = next(model.parameters())
    with torch.no_grad():
        param.add_(1.0)  # an optimizer step is an in-place update like this one
    try:
        again = cache.get(model, torch.bfloat16)
        assert again is copy and cache.refreshes == 1
        torch.testing.assert_close(
            next(again.parameters()).float(), param.detach(), atol=0.05, rtol=0.01
        )
    finally:
        with torch.no_grad():
            param.sub_(1.0)
    gen = GenerationConfig(max_new_tokens=8, seed=0, dtype="bfloat16")
    samples = tiny.generate([Prompt("def f(")], ["f"], gen, n=3)
    lp = tiny.token_logprobs([s.prompt_ids for s in samples], [s.token_ids for s in samples])
    diff = max(
        float((a.detach() - torch.tensor(s.logprobs)).abs().max())
        for a, s in zip(lp, samples, strict=True)
    )
    assert 0 < diff < 0.1  # bf16 behaviour log-probs: close to the fp32 learner's, not equal


def test_dtype_names_are_checked():
    assert resolve_compute_dtype("float32", torch.device("cpu")) == torch.float32
    assert resolve_compute_dtype("auto", torch.device("cpu")) in (torch.float32, torch.bfloat16)
    with pytest.raises(ValueError, match="dtype must be one of"):
        resolve_compute_dtype("fp8", torch.device("cpu"))
    with pytest.raises(ValueError, match="generation dtype"):
        GenerationConfig(dtype="half").validate()
    with pytest.raises(ValueError, match="top_k"):
        GenerationConfig(top_k=-1).validate()


def test_learner_autocast_gradients_agree_with_float32(tiny):
    """bf16 autocast of token_logprobs: loss and gradient within the tolerance documented in
    docs/generation.md (relative error of the loss < 1%, gradient cosine > 0.99)."""
    samples = tiny.generate([Prompt("def f(x):\n")] * 4, list("abcd"),
                            GenerationConfig(max_new_tokens=16, seed=2))  # fmt: skip
    prompts, tokens = [s.prompt_ids for s in samples], [s.token_ids for s in samples]

    def loss_and_grad(dtype):
        tiny.learner_dtype = dtype
        tiny.model.zero_grad(set_to_none=True)
        loss = -sum(lp.sum() for lp in tiny.token_logprobs(prompts, tokens, temperature=0.8))
        loss.backward()
        grad = torch.cat([p.grad.flatten() for p in tiny.model.parameters() if p.grad is not None])
        return float(loss), grad

    try:
        loss32, grad32 = loss_and_grad(None)
        loss16, grad16 = loss_and_grad(torch.bfloat16)
    finally:
        tiny.learner_dtype = None
        tiny.model.zero_grad(set_to_none=True)
    assert abs(loss16 - loss32) / abs(loss32) < 0.01
    assert loss16 != loss32  # autocast really ran in bf16
    assert (
        float(torch.nn.functional.cosine_similarity(grad16.double(), grad32.double(), dim=0)) > 0.99
    )


def test_dropping_finished_rows_changes_no_sample(tiny, monkeypatch):
    """Rows that stop early leave the batch (sampling._drop_finished); every sample, log-prob
    and length is what it is when they stay in it, and the batch does shrink."""
    from rltf.policy import sampling

    prompts = [Prompt("x = 'h", stop=(s,)) for s in ("e", "a", "\n", "t", "o", "(", "r", "i")]
    gen = GenerationConfig(max_new_tokens=40, seed=3, batch_size=8)
    sizes: list[int] = []
    real = sampling._drop_finished

    def spy(state, rows, finished):
        kept = real(state, rows, finished)
        sizes.append(len(kept))
        return kept

    monkeypatch.setattr(sampling, "_drop_finished", spy)
    dropped = tiny.generate(prompts, [str(i) for i in range(8)], gen)
    assert min(sizes) < 8  # rows were dropped (else the comparison below is vacuous)
    monkeypatch.setattr(sampling, "DROP_FINISHED_SHARE", 2.0)  # never drop
    sizes.clear()
    kept = tiny.generate(prompts, [str(i) for i in range(8)], gen)
    assert set(sizes) == {8}
    for a, b in zip(dropped, kept, strict=True):
        assert a.token_ids == b.token_ids and a.text == b.text
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-5)


@pytest.mark.parametrize("cache_rows", ["copied", "legacy"])
def test_a_prompt_shared_by_several_samples_is_prefilled_once(tiny, monkeypatch, cache_rows):
    """The k samples of a prompt share one prefill (its cache rows are copied): every sample
    and log-prob is what a prefill of every row gives; a cache whose rows cannot be copied falls
    back to prefilling every row."""
    from rltf.policy import sampling

    prompts = [Prompt("def f(x):\n    return"), Prompt("x = [1, 2")]
    gen = GenerationConfig(max_new_tokens=24, seed=5, batch_size=8)
    widths: list[int] = []
    real = sampling._prefill_causal

    def spy(model, rows, pad_id, device):
        widths.append(len(rows))
        return real(model, rows, pad_id, device)

    monkeypatch.setattr(sampling, "_prefill_causal", spy)
    if cache_rows == "legacy":
        monkeypatch.setattr(sampling, "selectable", lambda cache: False)
    shared = tiny.generate(prompts, ["a", "b"], gen, n=4)
    assert widths == ([2] if cache_rows == "copied" else [2, 8])
    monkeypatch.setattr(sampling, "SHARE_PROMPT_PREFILL", False)
    widths.clear()
    separate = tiny.generate(prompts, ["a", "b"], gen, n=4)
    assert widths == [8]
    assert len({s.token_ids for s in separate}) > 2  # the rows' samples differ
    for a, b in zip(shared, separate, strict=True):
        assert a.token_ids == b.token_ids and a.text == b.text
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-5)
