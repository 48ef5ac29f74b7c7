"""The three test kinds through the real sandbox: verdicts, error lines, modes, decomposition."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rltf.execution import ExecutionConfig, ExecutionPool
from rltf.records import Problem, Verdict

CFG = ExecutionConfig(timeout_per_test=2.0, timeout_per_program=6.0)


@pytest.fixture(scope="module")
def pool() -> Iterator[ExecutionPool]:
    with ExecutionPool(workers=2, config=CFG) as p:
        yield p


def stdio(*cases: tuple[str, str]) -> Problem:
    tests = {"type": "stdio", "cases": [{"input": i, "output": o} for i, o in cases]}
    return Problem.from_dict({"id": "s", "prompt": "", "tests": tests})


def call(fn: str, *cases: tuple[list[Any], Any]) -> Problem:
    tests = {"type": "call", "fn_name": fn, "cases": [{"args": a, "expected": e} for a, e in cases]}
    return Problem.from_dict({"id": "c", "prompt": "", "tests": tests})


def asserts(*lines: str, setup: str = "", entry: str | None = None) -> Problem:
    tests: dict[str, Any] = {"type": "assert", "asserts": list(lines), "setup": setup}
    if entry:
        tests["entry_point"] = entry
    return Problem.from_dict({"id": "a", "prompt": "", "tests": tests})


def run(pool: ExecutionPool, problem: Problem, program: str, mode: str = "train") -> Verdict:
    return pool.submit(problem, program, mode).result(timeout=60)  # type: ignore[arg-type]


ADD = stdio(("1 2\n", "3\n"), ("10 -4\n", "6\n"), ("0 0\n", "0\n"))


def test_stdio_pass_fail_and_ratio(pool: ExecutionPool) -> None:
    v = run(pool, ADD, "a, b = map(int, input().split())\nprint(a + b)")
    assert (v.outcome, v.passed, v.total, v.pass_ratio) == ("passed", 3, 3, 1.0)
    assert v.error is None and "setuid" in v.isolation
    v = run(pool, ADD, "a, b = map(int, input().split())\nprint(a + b if a else 1)")
    assert (v.outcome, v.passed) == ("failed", 2)
    assert [t.outcome for t in v.tests] == ["passed", "passed", "failed"]
    assert "wrong output" in v.tests[2].reason


def test_stdio_reads_all_input_and_fast_io(pool: ExecutionPool) -> None:
    problem = stdio(("1\n2\n3\n", "6\n"))
    assert (
        run(pool, problem, "import sys\nprint(sum(map(int, sys.stdin.read().split())))").outcome
        == "passed"
    )
    fast = "import os\ndata = os.read(0, os.fstat(0).st_size).split()\nos.write(1, str(sum(map(int, data))).encode())"
    assert run(pool, problem, fast).outcome == "passed"
    assert run(pool, problem, "print(6)\nexit()").outcome == "passed"  # exit() is a normal end


def test_compile_error_line_in_program_coordinates(pool: ExecutionPool) -> None:
    v = run(pool, ADD, "x = 1\ny = 2\nprint(x +)\n")
    assert v.outcome == "compile_error" and v.passed == 0
    assert v.error is not None and (v.error.type, v.error.line) == ("SyntaxError", 3)
    assert v.error.category == "line"
    v = run(pool, ADD, "def f(:\n")
    assert v.outcome == "compile_error" and v.error is not None and v.error.line == 1
    v = run(pool, ADD, "x = (1,\n")  # truncated: never closed
    assert v.error is not None and v.error.category == "global"
    v = run(pool, ADD, "if True:\nprint(1)\n")
    assert v.error is not None and v.error.type == "IndentationError"
    assert v.error.category == "ignore"


def test_runtime_error_line_is_the_innermost_program_frame(pool: ExecutionPool) -> None:
    program = "def g(xs):\n    return xs[5]\n\ndef f():\n    return g([1])\n\nprint(f())\n"
    v = run(pool, ADD, program)
    assert v.outcome == "runtime_error"
    assert v.error is not None and (v.error.type, v.error.line) == ("IndexError", 2)
    assert v.error.category == "line"
    v = run(
        pool, ADD, "import sys\nsys.setrecursionlimit(10**5)\ndef f(n): return f(n + 1)\nf(0)\n"
    )
    assert v.error is not None and v.error.type in ("RecursionError", "Signal")


def test_timeout_is_its_own_outcome_and_train_mode_continues(pool: ExecutionPool) -> None:
    program = "a, b = map(int, input().split())\nwhile a == 10: pass\nprint(a + b)"
    v = run(pool, ADD, program, "train")
    assert v.outcome == "timeout" and v.error is not None and v.error.category == "global"
    assert [t.outcome for t in v.tests] == ["passed", "timeout", "passed"]
    assert v.passed == 2
    v = run(pool, ADD, program, "eval")  # eval stops at the first failure
    assert [t.outcome for t in v.tests] == ["passed", "timeout", "not_run"]


def test_program_budget_bounds_all_tests(pool: ExecutionPool) -> None:
    many = stdio(*[("1 1\n", "2\n")] * 8)
    v = run(pool, many, "while True: pass")
    assert v.outcome == "timeout"
    assert sum(t.seconds for t in v.tests) <= CFG.timeout_per_program + 1.0
    assert v.tests[-1].outcome in ("not_run", "timeout")


def test_call_function_and_solution_method(pool: ExecutionPool) -> None:
    problem = call("add", ([1, 2], 3), ([[1], [2]], [[1, 2]]), ([0.1, 0.2], 0.3))
    assert run(pool, problem, "def add(a, b):\n    return a + b").outcome == "passed"
    method = "class Solution:\n    def add(self, a, b):\n        return a + b\n"
    assert run(pool, problem, method).outcome == "passed"
    v = run(pool, problem, "def add(a, b):\n    return (a + b,)")  # tuple -> list
    assert [t.outcome for t in v.tests] == ["failed", "passed", "failed"]  # ([1, 2],) ~ [[1, 2]]


def test_call_errors(pool: ExecutionPool) -> None:
    problem = call("div", ([1, 0], 0))
    v = run(pool, problem, "def div(a, b):\n    x = 1\n    return a // b\n")
    assert v.outcome == "runtime_error"
    assert v.error is not None and (v.error.type, v.error.line) == ("ZeroDivisionError", 3)
    v = run(pool, problem, "def other(a, b):\n    return 0\n")
    assert v.outcome == "runtime_error" and v.error is not None and v.error.type == "NameError"
    assert v.error.line is None and v.error.category == "global"
    v = run(pool, problem, "raise ValueError('at import')\ndef div(a, b): return 0\n")
    assert v.outcome == "runtime_error" and v.error is not None and v.error.line == 1


def test_call_returning_non_plain_value_is_a_wrong_answer(pool: ExecutionPool) -> None:
    problem = call("f", ([], 1))
    rigged = "class Any:\n    def __eq__(self, o): return True\ndef f():\n    return Any()\n"
    v = run(pool, problem, rigged)
    assert v.outcome == "failed" and "non-plain" in v.tests[0].reason
    subclass = "class I(int):\n    def __eq__(self, o): return True\ndef f():\n    return I(5)\n"
    assert run(pool, problem, subclass).outcome == "failed"
    numpy = "import numpy as np\ndef f():\n    return np.int64(1)\n"
    assert run(pool, problem, numpy).outcome == "passed"  # numpy scalars hold plain values


@pytest.mark.parametrize(
    ("test", "program"),
    [
        ("assert f(2) == 4", "def f(x): return x * x"),
        ("assert candidate(3)", "def f(x): return x > 0"),
        ("assert abs(f(2) - 0.6666) < 1e-3", "def f(x): return x / 3"),
        ("assert set(f(3)) == {0, 1, 2}", "def f(n): return [2, 1, 0]"),
        ("assert sorted(f(3)) == [0, 1, 2] and len(f(3)) == 3", "def f(n): return [2, 0, 1]"),
        ("assert math.isclose(f(1), 0.5)", "import math\ndef f(x): return x / 2"),
        ("assert list(f(3)) == [0, 1, 2]", "def f(n):\n    yield from range(n)"),
        ("assert f([3, 1]).pop() == 1", "def f(xs): return xs"),
        (
            "assert Stack().push(1).top() == 1",
            "class Stack:\n    def push(self, x):\n        self.x = x\n        return self\n    def top(self): return self.x",
        ),
        (
            "try:\n    f(-1)\n    assert False\nexcept ValueError:\n    pass",
            "def f(x):\n    if x < 0: raise ValueError(x)",
        ),
    ],
)
def test_assert_patterns_are_decomposed(pool: ExecutionPool, test: str, program: str) -> None:
    v = run(pool, asserts(test, entry="f" if "candidate" in test else None), program)
    assert v.outcome == "passed", v
    assert v.notes == ()


def test_assert_failures_and_errors(pool: ExecutionPool) -> None:
    problem = asserts("assert f(2) == 4", "assert f(3) == 9", entry="f")
    v = run(pool, problem, "def f(x): return x + 2")
    assert (v.outcome, v.passed) == ("failed", 1)
    v = run(pool, problem, "def f(x):\n    return [][x]\n")
    assert v.outcome == "runtime_error" and v.error is not None and v.error.line == 2
    v = run(pool, problem, "def g(x): return x * x")
    assert v.outcome == "runtime_error" and v.error is not None and v.error.type == "NameError"
    v = run(pool, asserts("assert f(1) < 3", entry="f"), "def f(x): return None")
    assert v.outcome == "failed" and "TypeError" in v.tests[0].reason


def test_humaneval_style_hoisted_setup_and_loop(pool: ExecutionPool) -> None:
    setup = "METADATA = {'author': 'x'}\nimport random\nrng = random.Random(0)\n"
    loop = "for _ in range(20):\n    x = rng.randint(-50, 50)\n    assert candidate(x) == abs(x)"
    problem = asserts("assert candidate(-3) == 3", loop, setup=setup, entry="my_abs")
    assert run(pool, problem, "def my_abs(x):\n    return -x if x < 0 else x").outcome == "passed"
    assert run(pool, problem, "def my_abs(x):\n    return x").passed == 0


def test_helper_defined_by_program_is_noted(pool: ExecutionPool) -> None:
    problem = asserts("assert candidate(encode('ab')) == 'ab'", entry="decode")
    program = "def encode(s): return s[::-1]\ndef decode(s): return s[::-1]"
    v = run(pool, problem, program)
    assert v.outcome == "passed" and any("encode" in n for n in v.notes)


def test_undecomposable_assert_runs_in_child_with_a_note(pool: ExecutionPool) -> None:
    problem = asserts("assert apply(lambda x: x + 1, 1) == 2", entry="apply")
    v = run(pool, problem, "def apply(f, x): return f(x)")
    assert v.outcome == "passed"
    assert any("inside the sandbox" in n for n in v.notes)


def test_broken_setup_is_a_sandbox_error(pool: ExecutionPool) -> None:
    v = run(
        pool,
        asserts("assert f(1) == 1", setup="raise RuntimeError('dataset bug')"),
        "def f(x): return x",
    )
    assert v.outcome == "sandbox_error" and v.passed == 0


def test_expected_values_never_enter_the_sandbox(pool: ExecutionPool) -> None:
    """A program that scans its own heap for the expected answer must not find it."""
    marker = "EXPECTED-7f3a9c"
    scan = (
        "import gc\n"
        "def find():\n"
        "    for o in gc.get_objects():\n"
        "        for s in (o if isinstance(o, (list, tuple, dict, set)) else [o]):\n"
        "            if isinstance(s, str) and s.startswith('EXPECTED-') and len(s) == 15:\n"
        "                return s\n"
        "    return 'not found'\n"
    )
    v = run(pool, stdio(("x\n", marker + "\n")), scan + "print(find())")
    assert v.outcome == "failed"
    v = run(pool, call("f", ([], marker)), scan + "def f():\n    return find()")
    assert v.outcome == "failed"
    v = run(
        pool, asserts(f"assert f() == {marker!r}", entry="f"), scan + "def f():\n    return find()"
    )
    assert v.outcome == "failed"


def test_program_assertion_error_is_a_runtime_error(pool: ExecutionPool) -> None:
    v = run(
        pool, asserts("assert f(1) == 1", entry="f"), "def f(x):\n    assert x > 5\n    return x"
    )
    assert v.outcome == "runtime_error"
    assert v.error is not None and (v.error.type, v.error.line) == ("AssertionError", 2)


# -- benchmark fidelity: the APPS import header, MBPP's program-side setup, stdlib values --------

HEADER = "from typing import List\nfrom collections import Counter\nfrom heapq import *\n"


def with_header(problem: Problem, header: str = HEADER) -> Problem:
    return Problem(problem.id, "", problem.tests, meta={"program_header": header})


def test_apps_header_defines_its_names_and_keeps_program_lines(pool: ExecutionPool) -> None:
    program = (
        "def f(xs: List[int]) -> int:\n    return max(Counter(xs).values())\nprint(f([1, 1, 2]))"
    )
    problem = stdio(("", "2\n"))
    assert run(pool, with_header(problem), program).outcome == "passed"
    bare = run(pool, problem, program)  # the same program without the header: List is undefined
    assert (bare.outcome, bare.error and bare.error.type) == ("runtime_error", "NameError")
    # a NameError on the program's line 3 is reported on line 3 with the header on (the fine
    # reward locates tokens by it), in stdio and call problems alike
    crash = "import sys\nxs = [1]\nprint(undefined_name)\n"
    v = run(pool, with_header(problem), crash)
    assert v.error is not None and (v.error.type, v.error.line) == ("NameError", 3)
    fn = "def g(x):\n    h = []\n    heappush(h, x)\n    return missing(h)\n"
    v = run(pool, with_header(call("g", ([1], [1]))), fn)
    assert v.error is not None and (v.error.type, v.error.line) == ("NameError", 4)
    assert run(pool, with_header(call("g", ([2], [2]))), fn.replace("missing", "list")).passed


def test_apps_header_switched_off_by_the_execution_config() -> None:
    program = "print(sqrt(4))"
    problem = with_header(stdio(("", "2.0\n")), "from math import sqrt\n")
    with ExecutionPool(workers=1, config=ExecutionConfig(program_header=False)) as bare:
        v = run(bare, problem, program)
    assert v.outcome == "runtime_error" and v.error is not None and v.error.type == "NameError"


def mbpp(*lines: str, program_setup: str) -> Problem:
    tests = {"type": "assert", "asserts": list(lines), "program_setup": program_setup}
    return Problem.from_dict({"id": "m", "prompt": "", "tests": tests})


NODE = "class Node:\n    def __init__(self, v):\n        self.v, self.left = v, None\n"


def test_mbpp_setup_runs_after_the_program_in_its_namespace(pool: ExecutionPool) -> None:
    # test_setup_code builds the program's own class (mbpp/927); test_imports serve the program
    problem = mbpp(
        "assert depth(root) == 2",
        "assert math.isclose(area(1), 3.14159, rel_tol=1e-3)",
        program_setup="import math\nroot = Node(1)\nroot.left = Node(2)\n",
    )
    program = NODE + (
        "def depth(n):\n    return 0 if n is None else 1 + depth(n.left)\n"
        "def area(r):\n    return math.pi * r * r\n"  # math only from test_imports
    )
    assert run(pool, problem, program).outcome == "passed"
    wrong = run(pool, problem, program.replace("1 + depth", "2 + depth"))
    assert [t.outcome for t in wrong.tests] == ["failed", "passed"]
    # a program without the class the setup needs fails as a program, never as a sandbox error
    v = run(pool, problem, "def depth(n):\n    return 2\n")
    assert v.outcome == "runtime_error" and v.error is not None and v.error.type == "NameError"


@pytest.mark.parametrize(
    ("program", "test"),
    [
        (
            "from collections import Counter\ndef f(s): return Counter(s)",
            "assert f('aab') == {'a': 2, 'b': 1}",
        ),
        (
            "from collections import defaultdict\ndef f(s):\n    d = defaultdict(int)\n    d[s] += 1\n    return d",
            "assert f('x') == {'x': 1}",
        ),
        (
            "import cmath\ndef f(s): return (cmath.polar(complex(3, 4)), complex(s, 0))",
            "assert f(2) == ((5.0, 0.9272952180016122), (2+0j))",
        ),
        (
            "from collections import namedtuple\nP = namedtuple('P', 'a b')\ndef f(s): return P(s, s)",
            "assert f(1) == (1, 1) and f(1).a == 1",
        ),
        (
            "from collections import deque\ndef f(s): return deque([s])",
            "assert f(1) == deque([1]) and f(1) != [1]",
        ),
        (
            "from decimal import Decimal\ndef f(s): return Decimal(s)",
            "assert f('1.5') == Decimal('1.5')",
        ),
        (
            "from fractions import Fraction\ndef f(s): return Fraction(s, 3)",
            "assert f(1) == Fraction(1, 3)",
        ),
        ("def f(s): return s.encode()", "assert f('ab') == b'ab'"),
        (
            "import re\ndef f(s): return re.search('a+', s)",
            "assert f('xaa') and f('xaa').group() == 'aa' and not f('x')",
        ),
    ],
)
def test_stdlib_values_are_compared_with_python_semantics(
    pool: ExecutionPool, program: str, test: str
) -> None:
    setup = "from collections import deque\nfrom decimal import Decimal\nfrom fractions import Fraction\n"
    v = run(pool, asserts(test, setup=setup), program)
    assert v.outcome == "passed", v.tests[0].reason


def test_program_class_instances_travel_as_references(pool: ExecutionPool) -> None:
    # mbpp/601: the test builds instances of the program's class and passes them back
    program = "class Pair:\n    def __init__(s, a, b): s.a, s.b = a, b\ndef total(ps): return sum(p.a + p.b for p in ps)"
    assert run(pool, asserts("assert total([Pair(1, 2), Pair(3, 4)]) == 10"), program).passed
