"""Family `numbers`: digits, divisors, primes, gcd, multiples, binary."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from rltf.tasks.builtin._core import INT_NAMES, Arg, Draft, int_cases, lines, pick, template, uniq

DIGIT_OPS = [("sum", 0), ("count", 0), ("reverse", 0), ("max", 0)] + [("has", d) for d in range(10)]


@template("numbers.digits", "easy", DIGIT_OPS, (10, 3))
def digits(key: Any, r: random.Random) -> Draft:
    op, d = key
    n = pick(r, INT_NAMES)
    code, what, oracle = {
        "sum": (
            f"sum(int(d) for d in str({n}))",
            "the sum of its digits",
            lambda v: sum(map(int, str(v))),
        ),
        "count": (f"len(str({n}))", "how many digits it has", lambda v: len(str(v))),
        "reverse": (
            f"int(str({n})[::-1])",
            "the number with its digits reversed",
            lambda v: int(str(v)[::-1]),
        ),
        "max": (f"int(max(str({n})))", "its largest digit", lambda v: max(map(int, str(v)))),
        "has": (
            f'str({n}).count("{d}")',
            f"how many times the digit {d} appears in it",
            lambda v: str(v).count(str(d)),
        ),
    }[op]
    return Draft(
        pick(r, (f"digit_{op}", "digits_of", "number_digits")),
        (Arg(n, "int"),),
        "int",
        f"takes a non-negative integer `{n}` and returns {what}",
        lines(f"return {code}"),
        oracle,
        int_cases(r, (0, 7, 10, 1200, int("1" + str(d) * 3)), 11, 99999),
    )


DIV_OPS = [("list", 0), ("count", 0), ("sum", 0), ("proper", 0)] + [("gt", k) for k in range(1, 6)]


@template("numbers.divisors", "medium", DIV_OPS, (7, 2))
def divisors(key: Any, r: random.Random) -> Draft:
    op, k = key
    n = pick(r, INT_NAMES)
    gen = f"d for d in range(1, {n} + 1) if {n} % d == 0"
    code, what, ret = {
        "list": (f"[{gen}]", "the list of its positive divisors in increasing order", "ints"),
        "count": (f"len([{gen}])", "how many positive divisors it has", "int"),
        "sum": (f"sum({gen})", "the sum of its positive divisors", "int"),
        "proper": (
            f"sum(d for d in range(1, {n}) if {n} % d == 0)",
            "the sum of its divisors smaller than itself",
            "int",
        ),
        "gt": (
            f"len([d for d in range(1, {n} + 1) if {n} % d == 0 and d > {k}])",
            f"how many of its divisors are greater than {k}",
            "int",
        ),
    }[op]

    def oracle(v: int) -> Any:
        ds = [d for d in range(1, v + 1) if v % d == 0]
        return {
            "list": ds,
            "count": len(ds),
            "sum": sum(ds),
            "proper": sum(ds) - v,
            "gt": len([d for d in ds if d > k]),
        }[op]

    return Draft(
        pick(r, (f"divisor_{op}", "divisors", "factor_info")),
        (Arg(n, "int"),),
        ret,
        f"takes a positive integer `{n}` and returns {what}",
        lines(f"return {code}"),
        oracle,
        int_cases(r, (1, 2, 12, 13, 30, 36, 60), 3, 200),
    )


def _is_prime(m: int) -> bool:
    return m >= 2 and all(m % d for d in range(2, int(m**0.5) + 1))


PRIME_TEST = "all({m} % d != 0 for d in range(2, int({m} ** 0.5) + 1))"


@template("numbers.primes", "medium", ["is", "count", "sum", "list", "next"], (4, 1))
def primes(key: Any, r: random.Random) -> Draft:
    n = pick(r, INT_NAMES)
    oracle: Callable[..., Any]
    if key == "is":
        body = lines(f"if {n} < 2:", "    return False", f"return {PRIME_TEST.format(m=n)}")
        what, ret, oracle = "True if it is a prime number, otherwise False", "bool", _is_prime
    elif key == "next":
        body = lines(
            f"m = {n} + 1",
            f"while m < 2 or not {PRIME_TEST.format(m='m')}:",
            "    m += 1",
            "return m",
        )
        what, ret = "the smallest prime number greater than it", "int"

        def oracle_next(v: int) -> Any:
            m = v + 1
            while not _is_prime(m):
                m += 1
            return m

        oracle = oracle_next
    else:
        gen = f"m for m in range(2, {n} + 1) if {PRIME_TEST.format(m='m')}"
        code, what, ret = {
            "count": (f"len([{gen}])", "how many prime numbers are at most it", "int"),
            "sum": (f"sum({gen})", "the sum of the prime numbers that are at most it", "int"),
            "list": (
                f"[{gen}]",
                "the list of prime numbers that are at most it, in increasing order",
                "ints",
            ),
        }[key]
        body = lines(f"return {code}")

        def oracle_range(v: int) -> Any:
            ps = [m for m in range(2, v + 1) if _is_prime(m)]
            return {"count": len(ps), "sum": sum(ps), "list": ps}[key]

        oracle = oracle_range

    return Draft(
        pick(r, (f"prime_{key}", "primes", "prime_check")),
        (Arg(n, "int"),),
        ret,
        f"takes an integer `{n}` (0 or more) and returns {what}",
        body,
        oracle,
        int_cases(r, (0, 1, 2, 9, 25, 97), 3, 150),
    )


@template("numbers.gcd", "medium", ["gcd", "lcm", "reduce", "coprime", "gcd3"], (4, 1))
def gcd(key: Any, r: random.Random) -> Draft:
    a, b = pick(r, (("a", "b"), ("x", "y"), ("m", "n")))
    loop = [f"while {b}:", f"    {a}, {b} = {b}, {a} % {b}"]
    args = [Arg(a, "int"), Arg(b, "int")]

    def g(x: int, y: int) -> int:
        while y:
            x, y = y, x % y
        return x

    oracle: Callable[..., Any]
    if key == "gcd":
        body, what, ret, oracle = (
            [*loop, f"return {a}"],
            f"the greatest common divisor of `{a}` and `{b}`",
            "int",
            g,
        )
    elif key == "lcm":
        body = [f"p = {a} * {b}", *loop, f"return p // {a}"]
        what, ret, oracle = (
            f"the least common multiple of `{a}` and `{b}`",
            "int",
            lambda x, y: x * y // g(x, y),
        )
    elif key == "reduce":
        body = [f"p = {a}", f"q = {b}", *loop, f"return [p // {a}, q // {a}]"]
        what, ret = (
            f"the fraction `{a}`/`{b}` in lowest terms as a list [numerator, denominator]",
            "ints",
        )
        oracle = lambda x, y: [x // g(x, y), y // g(x, y)]  # noqa: E731
    elif key == "coprime":
        body, what, ret = (
            [*loop, f"return {a} == 1"],
            f"True if `{a}` and `{b}` have no common divisor other than 1",
            "bool",
        )
        oracle = lambda x, y: g(x, y) == 1  # noqa: E731
    else:
        args.append(Arg("c", "int"))
        body = [*loop, f"{b} = c", *loop, f"return {a}"]
        what, ret = f"the greatest common divisor of `{a}`, `{b}` and `c`", "int"
        oracle = lambda x, y, z: g(g(x, y), z)  # noqa: E731
    pairs = [
        (1, 1),
        (12, 18),
        (7, 13),
        (100, 75),
        (9, 3),
        (r.randint(2, 60) * 6, r.randint(2, 60) * 4),
    ]
    cases = [(*p, p[0] + p[1]) if key == "gcd3" else p for p in pairs]
    return Draft(
        pick(r, (key, f"compute_{key}", "euclid")),
        tuple(args),
        ret,
        f"returns {what}, using Euclid's algorithm",
        tuple(body),
        oracle,
        uniq(cases),
        note="All inputs are positive integers.",
    )


@template(
    "numbers.multiples",
    "easy",
    [(op, k) for op in ("list", "count", "sum") for k in range(2, 10)],
    (16, 4),
    group=lambda key: key[0],
)
def multiples(key: Any, r: random.Random) -> Draft:
    op, k = key
    n = pick(r, ("n", "limit", "count"))
    code, what, ret, oracle = {
        "list": (
            f"[{k} * i for i in range(1, {n} + 1)]",
            f"the first `{n}` positive multiples of {k}",
            "ints",
            lambda v: [k * i for i in range(1, v + 1)],
        ),
        "count": (
            f"len(range({k}, {n} + 1, {k}))",
            f"how many multiples of {k} lie between 1 and `{n}`",
            "int",
            lambda v: len([i for i in range(1, v + 1) if i % k == 0]),
        ),
        "sum": (
            f"sum(range({k}, {n} + 1, {k}))",
            f"the sum of the multiples of {k} between 1 and `{n}`",
            "int",
            lambda v: sum(i for i in range(1, v + 1) if i % k == 0),
        ),
    }[op]
    return Draft(
        pick(r, (f"multiples_of_{k}", f"{op}_multiples", "multiples")),
        (Arg(n, "int"),),
        ret,
        f"returns {what}",
        lines(f"return {code}"),
        oracle,
        int_cases(r, (0, 1, k, k + 1, k * k - 1, 100), 2, 30),
        note=f"`{n}` is not negative.",
    )


def _either_keys() -> list[tuple[int, int, str]]:
    """Pairs where b is a multiple of a collapse ("by 2 or 4" is "by 2"), and "by a and b" only
    depends on lcm(a, b): keep one key per distinct function."""
    keys, seen = [], set()
    for conj in ("or", "and"):
        for a in range(2, 8):
            for b in range(a + 1, 10):
                lcm = a * b // next(g for g in range(a, 0, -1) if a % g == 0 and b % g == 0)
                if b % a == 0 or (conj == "and" and lcm in seen):
                    continue
                seen.add(lcm) if conj == "and" else None
                keys.append((a, b, conj))
    return keys


@template(
    "numbers.either",
    "medium",
    _either_keys(),
    (16, 4),
    group=lambda key: key[2],
)
def either(key: Any, r: random.Random) -> Draft:
    a, b, conj = key
    n = pick(r, ("n", "limit", "below"))
    word = "either" if conj == "or" else "both"
    return Draft(
        pick(r, ("sum_multiples", "special_sum", "euler")),
        (Arg(n, "int"),),
        "int",
        f"returns the sum of the integers from 0 up to but not including `{n}` that are divisible by {word} {a} {conj} {b}",
        lines(f"return sum(i for i in range({n}) if i % {a} == 0 {conj} i % {b} == 0)"),
        lambda v: sum(
            i
            for i in range(v)
            if (i % a == 0, i % b == 0).count(True) >= (1 if conj == "or" else 2)
        ),
        int_cases(r, (0, 1, a, b + 1, a * b + 1), 2, 300),
    )


BIT_OPS = {
    "ones": (
        'bin({n}).count("1")',
        "how many 1 bits its binary form has",
        "int",
        lambda v: format(v, "b").count("1"),
    ),
    "binary": (
        "bin({n})[2:]",
        'its binary form as a string without the "0b" prefix',
        "str",
        lambda v: format(v, "b"),
    ),
    "octal": ('format({n}, "o")', "its base-8 form as a string", "str", lambda v: oct(v)[2:]),
    "hex": (
        'format({n}, "x")',
        "its base-16 form as a string with lowercase letters",
        "str",
        lambda v: hex(v)[2:],
    ),
    "pow2": (
        "{n} > 0 and {n} & ({n} - 1) == 0",
        "True if it is a power of two, otherwise False",
        "bool",
        lambda v: v in {2**i for i in range(40)},
    ),
    "zeros": (
        'bin({n})[2:].count("0")',
        "how many 0 digits its binary form has",
        "int",
        lambda v: format(v, "b").count("0"),
    ),
}


@template("numbers.bits", "medium", list(BIT_OPS), (4, 2))
def bits(key: Any, r: random.Random) -> Draft:
    n = pick(r, INT_NAMES)
    code, what, ret, oracle = BIT_OPS[key]
    return Draft(
        pick(r, (f"bits_{key}", "binary_info", "to_bits")),
        (Arg(n, "int"),),
        ret,
        f"takes a non-negative integer `{n}` and returns {what}",
        lines("return " + code.format(n=n)),
        oracle,
        int_cases(r, (0, 1, 8, 255, 1000), 2, 5000),
    )


TEMPLATES = [digits, divisors, primes, gcd, multiples, either, bits]
