"""Prompt formats: APPS (CodeRL), MBPP, HumanEval continuation, plain, chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from rltf.records import AssertTests, Problem, StdioCase, StdioTests
from rltf.tasks import Prompt, format_prompt, load_dataset
from rltf.tasks.prompts import HUMANEVAL_STOP, MBPP_STOP, auto_style

FIX = Path(__file__).parent / "fixtures" / "tasks"


@pytest.fixture(scope="module")
def apps() -> dict[str, Problem]:
    return {p.id: p for p in load_dataset(f"apps:{FIX / 'apps'}")}


def test_apps_standard_input_format_is_coderl_exact(apps: dict[str, Problem]) -> None:
    p = apps["apps/train/0000"]
    assert format_prompt(p) == Prompt(
        "\nQUESTION:\n" + p.prompt + "\nUse Standard Input format\nANSWER:\n"
    )


def test_apps_call_based_with_starter_code(apps: dict[str, Problem]) -> None:
    p = apps["apps/test/0000"]
    text = format_prompt(p, "apps").text
    assert text == (
        "\nQUESTION:\n" + p.prompt + "\n" + p.starter_code + "\nUse Call-Based format\nANSWER:\n"
    )
    assert "class Solution:\n    def sortList" in text


def test_mbpp_statement_and_three_asserts() -> None:
    p = {q.id: q for q in load_dataset(f"mbpp:{FIX / 'mbpp.jsonl'}", skip_invalid=False)}["mbpp/11"]
    prompt = format_prompt(p)
    assert prompt.text == (
        "You are an expert Python programmer, and here is your task: Write a python function to "
        "remove first and last occurrence of a given character from the string. Your code should "
        'pass these tests:\n\nassert remove_Occ("hello","l") == "heo"\n'
        'assert remove_Occ("abcda","a") == "bcd"\nassert remove_Occ("PHP","P") == "H"\n'
    )
    assert prompt.stop == MBPP_STOP and prompt.program_prefix == "" and not prompt.extract_code


def test_mbpp_shows_at_most_three_asserts() -> None:
    asserts = tuple(f"assert f({i}) == {i}" for i in range(5))
    p = Problem("x", "Write f.", AssertTests(asserts))
    text = format_prompt(p).text
    assert "assert f(2) == 2" in text and "assert f(3)" not in text


def test_humaneval_continuation() -> None:
    p = load_dataset(f"humaneval:{FIX / 'humaneval.jsonl'}")[0]
    prompt = format_prompt(p)
    assert prompt == Prompt(p.prompt, program_prefix=p.prompt, stop=HUMANEVAL_STOP)
    assert HUMANEVAL_STOP == ("\nclass", "\ndef", "\n#", "\nif", "\nprint")
    # the canonical program is prefix + completion
    assert prompt.program_prefix + "    return a + b\n" == p.solutions[0]


def test_plain_and_auto_fallbacks(apps: dict[str, Problem]) -> None:
    stdio = Problem("s", "Print 1.", StdioTests((StdioCase("", "1\n"),)))
    asserts = Problem("a", "Write f.", AssertTests(("assert f() == 1",)))
    assert auto_style(stdio) == "apps" and auto_style(asserts) == "mbpp"
    assert auto_style(apps["apps/test/0001"]) == "apps"
    override = Problem(
        "o", "Write f.", AssertTests(("assert f() == 1",)), meta={"prompt_style": "plain"}
    )
    assert format_prompt(override) == Prompt("Write f.\n")
    assert format_prompt(apps["apps/test/0001"], "plain").text.endswith("def add(a, b):\n\t\n")
    with pytest.raises(ValueError, match="unknown prompt style 'fancy'"):
        format_prompt(stdio, "fancy")


class _Tok:
    chat_template = None


@pytest.fixture(scope="module")
def chat_tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    )
    tok.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    return tok


def test_chat_variant(apps: dict[str, Problem], chat_tokenizer) -> None:  # type: ignore[no-untyped-def]
    stdio = format_prompt(apps["apps/train/0000"], "chat", chat_tokenizer)
    assert stdio.extract_code and stdio.program_prefix == "" and stdio.stop == ()
    assert stdio.text.startswith("<|user|>\nGiven two integers a and b")
    assert "standard input" in stdio.text and stdio.text.endswith(
        "```python code block.\n<|assistant|>\n"
    )
    call = format_prompt(apps["apps/test/0000"], "chat", chat_tokenizer).text
    assert "Implement `sortList`" in call and "```python\nclass Solution:" in call
    he = load_dataset(f"humaneval:{FIX / 'humaneval.jsonl'}")[1]
    hep = format_prompt(he, "chat", chat_tokenizer)
    # the prompt's imports and helpers stay defined; the answer's function replaces the stub
    assert hep.program_prefix == he.prompt + "\n"
    assert "def helper" in hep.text


def test_chat_needs_a_chat_template() -> None:
    p = Problem("a", "Write f.", AssertTests(("assert f() == 1",)))
    with pytest.raises(ValueError, match="needs a tokenizer"):
        format_prompt(p, "chat")
    with pytest.raises(ValueError, match="no chat template"):
        format_prompt(p, "chat", _Tok())


def test_completion_style_continues_the_signature():
    from rltf.records import CallCase, CallTests, Problem
    from rltf.tasks.prompts import format_prompt

    p = Problem(
        "c1",
        "Return `x` doubled.",
        CallTests("double", (CallCase((2,), 4),)),
        starter_code="def double(x):\n",
        meta={"prompt_style": "completion"},
    )
    prompt = format_prompt(p)  # auto follows meta["prompt_style"]
    assert prompt.text == '"""Return `x` doubled."""\ndef double(x):\n'
    assert prompt.program_prefix == "def double(x):\n"
    assert prompt.stop == ()
    bare = Problem("c2", "Return 1.", CallTests("one", (CallCase((), 1),)))
    with pytest.raises(ValueError, match="needs starter_code"):
        format_prompt(bare, "completion")


def test_builtin_problems_use_the_completion_style():
    from rltf.tasks import load_dataset
    from rltf.tasks.prompts import format_prompt

    for p in load_dataset("builtin:basic:test")[:20]:
        prompt = format_prompt(p)
        assert prompt.text.endswith(p.starter_code)
        assert p.solutions[0].startswith(prompt.program_prefix)


def test_auto_uses_the_chat_template_when_the_tokenizer_has_one(chat_tokenizer) -> None:  # type: ignore[no-untyped-def]
    from rltf.tasks import resolve_style

    he = load_dataset(f"humaneval:{FIX / 'humaneval.jsonl'}")[0]
    assert resolve_style(he, "auto", chat_tokenizer) == (
        "chat",
        "the tokenizer has a chat template",
    )
    assert format_prompt(he, "auto", chat_tokenizer) == format_prompt(he, "chat", chat_tokenizer)
    # a base model (no template) gets the human-eval continuation, and the log says why
    style, why = resolve_style(he, "auto", _Tok())
    assert (style, why) == ("humaneval", "no chat template: the dataset's format")
    assert format_prompt(he, "auto", _Tok()).text == he.prompt
    # an explicit style, and a dataset's own style (the built-in benchmark's), win over the template
    assert resolve_style(he, "humaneval", chat_tokenizer)[0] == "humaneval"
    own = Problem(
        "c", "x", he.tests, starter_code="def f():\n", meta={"prompt_style": "completion"}
    )
    assert resolve_style(own, "auto", chat_tokenizer)[0] == "completion"
