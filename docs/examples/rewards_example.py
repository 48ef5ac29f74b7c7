"""The worked example of docs/rewards.md: a real program, its error, its tokens, their rewards.

    python docs/examples/rewards_example.py            # prints the Markdown pasted in the docs
    python docs/examples/rewards_example.py --table    # prints the category table

A GPT-2-style byte-level BPE tokenizer is trained here on a few programs (no download). The
sampled program and the greedy baseline are run on the problem's four tests by a minimal
stand-in for rltf.execution (a subprocess per test, no sandbox: the two programs are fixed and
harmless); the error's line comes from the innermost traceback frame of the program's file, as
the execution engine reports it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from rltf.feedback import (
    RewardConfig,
    baseline_from_verdict,
    categorize,
    category_table_markdown,
    count_lines,
    token_rewards,
)
from rltf.records import ErrorInfo, Sample, TestResult, Verdict

# Problem: read n and n integers; print the largest increase between consecutive integers
# (0 when n == 1).
TESTS = [("3\n1\n4\n6\n", "3"), ("2\n5\n2\n", "-3"), ("1\n7\n", "0"), ("4\n1\n2\n9\n3\n", "7")]

SAMPLED = """n = int(input())
values = [int(input()) for _ in range(n)]
best = values[1] - values[0]
for i in range(2, n):
    best = max(best, values[i] - values[i - 1])
print(best)
"""

GREEDY = """n = int(input())
values = [int(input()) for _ in range(n)]
print(max(abs(b - a) for a, b in zip(values, values[1:])) if n > 1 else 0)
"""

CORPUS = [
    SAMPLED,
    GREEDY,
    "def solve(xs):\n    return sorted(xs)[len(xs) // 2]\n",
    "for i in range(int(input())):\n    print(i * i)\n",
    "a, b = map(int, input().split())\nprint(a + b)\n",
]

# Runs the program file with the test's stdin; on an exception prints one JSON line to stderr
# with the type, message and the line of the innermost frame whose file is the program.
HARNESS = """
import json, sys, traceback
path = sys.argv[1]
source = open(path).read()
try:
    exec(compile(source, path, "exec"), {"__name__": "__main__"})
except SyntaxError as e:
    print("RLTF-ERROR " + json.dumps([type(e).__name__, e.msg, e.lineno, "compile"]), file=sys.stderr)
except BaseException as e:
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
    line = frames[-1].lineno if frames else None
    print("RLTF-ERROR " + json.dumps([type(e).__name__, str(e), line, "runtime"]), file=sys.stderr)
"""


def train_tokenizer() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=330, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(CORPUS * 4, trainer)
    return tok


def execute(program: str) -> Verdict:
    """A minimal stand-in for rltf.execution: run every test, keep the first error."""
    results, error, outcome = [], None, "passed"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "program.py"
        path.write_text(program)
        for stdin, expected in TESTS:
            run = subprocess.run(
                [sys.executable, "-c", HARNESS, str(path)],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=10,
            )
            marks = [ln for ln in run.stderr.splitlines() if ln.startswith("RLTF-ERROR ")]
            if marks:
                etype, message, line, kind = json.loads(marks[-1][len("RLTF-ERROR ") :])
                test_outcome = "compile_error" if kind == "compile" else "runtime_error"
                if error is None:
                    category = categorize(etype, message, line, program_lines=count_lines(program))
                    error = ErrorInfo(etype, message, line, category)
                    outcome = test_outcome
                results.append(TestResult(test_outcome, reason=f"{etype}: {message}"))
            elif run.stdout.strip() == expected:
                results.append(TestResult("passed"))
            else:
                results.append(TestResult("failed", reason=f"got {run.stdout.strip()!r}"))
                outcome = "failed" if outcome == "passed" else outcome
    passed = sum(r.outcome == "passed" for r in results)
    return Verdict(outcome, tuple(results), passed, len(results), error)  # type: ignore[arg-type]


def to_sample(tok: Tokenizer, program: str, greedy: bool = False) -> Sample:
    enc = tok.encode(program)
    assert tok.decode(enc.ids) == program
    n = len(enc.ids)
    return Sample(
        "max-increase",
        (),
        tuple(enc.ids),
        program,
        tuple(enc.offsets),
        (0.0,) * n,
        truncated=False,
        policy_version=0,
        greedy=greedy,
    )


def main() -> None:
    if "--table" in sys.argv:
        print(category_table_markdown(), end="")
        return
    tok = train_tokenizer()
    sample, greedy_sample = to_sample(tok, SAMPLED), to_sample(tok, GREEDY, greedy=True)
    verdict, greedy_verdict = execute(SAMPLED), execute(GREEDY)
    # the paper's formulas verbatim (rltf's defaults cap α at 1 and baseline the fine reward)
    paper = RewardConfig(fine_alpha_cap=None, fine_baseline=False)
    official = RewardConfig(mode="official")
    rp = token_rewards(
        sample, verdict, baseline_from_verdict(greedy_verdict, greedy_sample, paper), paper
    )
    ro = token_rewards(
        sample, verdict, baseline_from_verdict(greedy_verdict, greedy_sample, official), official
    )

    print("Sampled program Ŵ (line numbers added):\n\n```")
    for i, line in enumerate(SAMPLED.splitlines(), 1):
        print(f"{i:>2}  {line}")
    print("```\n")
    for name, v in (("Ŵ (sampled)", verdict), ("Ŵ_b (greedy)", greedy_verdict)):
        tests = ", ".join(t.outcome for t in v.tests)
        print(f"- {name}: outcome `{v.outcome}`, {v.passed}/{v.total} tests passed ({tests})")
    err = verdict.error
    assert err is not None
    print(f"- error: `{err.type}: {err.message}` at line {err.line}, category `{err.category}`")
    print(
        f"- T = {len(sample.token_ids)} tokens; error span [S, E] = {list(rp.span or ())}; "
        f"paper α = T/(E−S+1) = {rp.alpha:.4f}; official α = {ro.alpha:.0f}"
    )
    print(
        f"- R_coarse(Ŵ) = {rp.r_coarse}, R_adaptive(Ŵ) = {rp.r_adaptive:.3f}; "
        f"R_coarse(Ŵ_b) = {rp.baseline.coarse}, R_adaptive(Ŵ_b) = {rp.baseline.adaptive:.3f}, "
        f"official R(Ŵ_b) = {ro.baseline.official:.3f}\n"
    )
    print(
        "| t | token | chars | line | paper coarse | paper fine | paper adaptive | paper r_t | official r_t |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    starts = [0] + [i + 1 for i, c in enumerate(SAMPLED) if c == "\n"]
    for t, (a, b) in enumerate(sample.offsets):
        line = max(k for k, s in enumerate(starts, 1) if s <= a)
        text = repr(SAMPLED[a:b]).replace("|", "\\|")
        print(
            f"| {t} | `{text}` | {a}–{b} | {line} | {rp.coarse[t]:+.3f} | {rp.fine[t]:+.3f} "
            f"| {rp.adaptive[t]:+.3f} | {rp.rewards[t]:+.3f} | {ro.rewards[t]:+.3f} |"
        )
    print(f"\nΣ r_t: paper {rp.total:+.3f}, official {ro.total:+.3f}")


if __name__ == "__main__":
    main()
