"""Family `parsing`: split and convert text: numbers, key=value pairs, words, clocks, dates."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from rltf.tasks.builtin._core import (
    STR_NAMES,
    Arg,
    Draft,
    lines,
    lit,
    pick,
    str_cases,
    template,
    text,
    uniq,
)

SEPS = (",", ";", " ", "|", "/", ":")
REDUCERS: dict[str, tuple[str, str, str, Callable[..., Any]]] = {
    "sum": ("sum(int(p) for p in {parts})", "the sum of the numbers", "int", sum),
    "max": ("max(int(p) for p in {parts})", "the largest number", "int", max),
    "min": ("min(int(p) for p in {parts})", "the smallest number", "int", min),
    "count": ("len({parts})", "how many numbers there are", "int", len),
    "list": ("[int(p) for p in {parts}]", "the numbers as a list of integers", "ints", list),
}


def _joined(r: random.Random, sep: str) -> tuple[tuple[Any, ...], ...]:
    cases = [("0",), ("7",), (sep.join(["-3", "3"]),), (sep.join(["5"] * 3),)]
    while len(uniq(cases)) < 6:
        cases.append((sep.join(str(r.randint(-20, 99)) for _ in range(r.randint(2, 6))),))
    return uniq(cases)


@template(
    "parsing.numbers",
    "easy",
    [(sep, red) for sep in SEPS for red in REDUCERS],
    (18, 5),
    group=lambda key: key[1],
)
def numbers(key: Any, r: random.Random) -> Draft:
    sep, red = key
    s = pick(r, STR_NAMES)
    code, what, ret, agg = REDUCERS[red]
    parts = f"{s}.split({lit(sep)})"
    name = {
        " ": "spaces",
        ",": "commas",
        ";": "semicolons",
        "|": "bars",
        "/": "slashes",
        ":": "colons",
    }[sep]
    return Draft(
        pick(r, (f"{red}_numbers", "parse_numbers", "read_values")),
        (Arg(s, "str"),),
        ret,
        f"takes a string `{s}` of integers separated by {name} (like {lit(sep.join(['4', '-2', '10']))}) and returns {what}",
        lines("return " + code.format(parts=parts)),
        lambda v: agg([int(p) for p in v.split(sep)]),
        _joined(r, sep),
        note=f"`{s}` holds at least one number.",
    )


KV_MODES = {
    "dict": (
        "result[key] = int(value)",
        "result = {}",
        "result",
        "a dictionary from each name to its integer value",
    ),
    "sum": ("result += int(value)", "result = 0", "result", "the sum of the values"),
    "keys": ("result.append(key)", "result = []", "result", "the list of names, in order"),
}


@template(
    "parsing.key_value",
    "medium",
    [(ps, kv, mode) for ps in (";", ",", "&", " ") for kv in ("=", ":") for mode in KV_MODES],
    (14, 4),
    group=lambda key: key[2],
)
def key_value(key: Any, r: random.Random) -> Draft:
    ps, kv, mode = key
    s = pick(r, ("s", "text", "config", "query"))
    step, init, result, what = KV_MODES[mode]
    example = ps.join(f"{k}{kv}{v}" for k, v in (("a", 1), ("b", 20)))

    def oracle(v: str) -> Any:
        pairs = [p.split(kv) for p in v.split(ps)]
        if mode == "dict":
            return {k: int(x) for k, x in pairs}
        return sum(int(x) for _, x in pairs) if mode == "sum" else [k for k, _ in pairs]

    words = ("apple", "fig", "x", "level", "owl", "b")
    cases = [(f"a{kv}1",), (f"x{kv}0{ps}y{kv}-5",), (f"k{kv}3{ps}k{kv}4",)]
    while len(uniq(cases)) < 6:
        cases.append(
            (ps.join(f"{pick(r, words)}{kv}{r.randint(-9, 99)}" for _ in range(r.randint(2, 5))),)
        )
    return Draft(
        pick(r, ("parse_pairs", "read_config", "parse_settings")),
        (Arg(s, "str"),),
        {"dict": "dict", "sum": "int", "keys": "strs"}[mode],
        f"reads pairs name{kv}value separated by {lit(ps)} from `{s}` (like {lit(example)}) and returns {what}",
        lines(
            init,
            f"for part in {s}.split({lit(ps)}):",
            f"    key, value = part.split({lit(kv)})",
            f"    {step}",
            f"return {result}",
        ),
        oracle,
        uniq(cases),
        note=f"`{s}` holds at least one pair."
        + (" A repeated name keeps its last value." if mode == "dict" else ""),
    )


CHAR_CLASSES = {"digit": "isdigit", "letter": "isalpha", "upper": "isupper", "lower": "islower"}


@template(
    "parsing.extract",
    "easy",
    [(cls, op) for cls in CHAR_CLASSES for op in ("keep", "remove", "count")] + [("digit", "sum")],
    (10, 3),
    group=lambda key: key[1],
)
def extract(key: Any, r: random.Random) -> Draft:
    cls, op = key
    s = pick(r, STR_NAMES)
    m = CHAR_CLASSES[cls]
    plural = {
        "digit": "digits",
        "letter": "letters",
        "upper": "upper-case letters",
        "lower": "lower-case letters",
    }[cls]
    code, what, ret = {
        "keep": (
            f'"".join(c for c in {s} if c.{m}())',
            f"only the {plural} of `{s}`, in order",
            "str",
        ),
        "remove": (f'"".join(c for c in {s} if not c.{m}())', f"`{s}` without its {plural}", "str"),
        "count": (f"sum(1 for c in {s} if c.{m}())", f"how many {plural} `{s}` contains", "int"),
        "sum": (
            f"sum(int(c) for c in {s} if c.isdigit())",
            f"the sum of the digits that appear in `{s}`",
            "int",
        ),
    }[op]

    def oracle(v: str) -> Any:
        hit = [getattr(c, m)() for c in v]
        if op == "keep":
            return "".join(c for c, h in zip(v, hit, strict=False) if h)
        if op == "remove":
            return "".join(c for c, h in zip(v, hit, strict=False) if not h)
        return sum(hit) if op == "count" else sum(int(c) for c in v if c.isdigit())

    cases = [("",), ("a1",), ("Room 42B",), ("2024-06-01",)]
    while len(uniq(cases)) < 6:
        cases.append((f"{pick(r, ('Ann', 'bob', 'X'))}{r.randint(0, 999)} {text(r, 1, 2)}",))
    return Draft(
        pick(r, (f"{op}_{cls}s", "scan_text", "extract")),
        (Arg(s, "str"),),
        ret,
        f"returns {what}",
        lines(f"return {code}"),
        oracle,
        uniq(cases),
    )


WORD_OPS = (
    [("count", 0), ("longest", 0), ("capital", 0), ("reverse", 0), ("initials", 0)]
    + [("longer", k) for k in range(2, 6)]
    + [("join", sep) for sep in ("-", "_", ", ", "")]
)


@template("parsing.words", "medium", WORD_OPS, (10, 3))
def words(key: Any, r: random.Random) -> Draft:
    op, k = key
    s = pick(r, ("s", "sentence", "text", "line"))
    ws = f"{s}.split()"
    code, what, ret, oracle = {
        "count": (f"len({ws})", f"the number of words in `{s}`", "int", lambda v: len(v.split())),
        "longest": (
            f'max({ws}, key=len, default="")',
            f"the longest word of `{s}` (the first one if several are longest, an empty string if there are none)",
            "str",
            lambda v: max(v.split(), key=len, default=""),
        ),
        "capital": (
            f'" ".join(w.capitalize() for w in {ws})',
            f"`{s}` with every word capitalized and single spaces between the words",
            "str",
            lambda v: " ".join(w[:1].upper() + w[1:].lower() for w in v.split()),
        ),
        "reverse": (
            f'" ".join(reversed({ws}))',
            f"the words of `{s}` in reverse order, separated by single spaces",
            "str",
            lambda v: " ".join(v.split()[::-1]),
        ),
        "initials": (
            f'"".join(w[0] for w in {ws})',
            f"the first letters of the words of `{s}`, joined together",
            "str",
            lambda v: "".join(w[0] for w in v.split()),
        ),
        "longer": (
            f"len([w for w in {ws} if len(w) > {k}])",
            f"how many words of `{s}` have more than {k} letters",
            "int",
            lambda v: sum(1 for w in v.split() if len(w) > k),
        ),
        "join": (
            f"{lit(k)}.join({ws})",
            f"the words of `{s}` joined by {lit(k)}",
            "str",
            lambda v: str(k).join(v.split()),
        ),
    }[op]
    return Draft(
        pick(r, (f"{op}_words", "word_tool", "process_sentence")),
        (Arg(s, "str"),),
        ret,
        f"splits `{s}` into words at whitespace and returns {what}",
        lines(f"return {code}"),
        oracle,
        str_cases(r, ("", "one", "hi  there you"), total=7, words=True),
    )


@template(
    "parsing.clock_add",
    "hard",
    [15, 30, 45, 50, 75, 90, 100, 125, 150, 200, 240, 300, 333, 480, 600, 720, 1000, 1400],
    (12, 3),
)
def clock_add(key: Any, r: random.Random) -> Draft:
    k = key
    t = pick(r, ("t", "time", "clock"))

    def oracle(v: str) -> str:
        h, m = (int(x) for x in v.split(":"))
        total = (h * 60 + m + k) % 1440
        return f"{total // 60:02d}:{total % 60:02d}"

    cases = [("00:00",), ("23:59",), ("12:30",), ("09:05",)]
    while len(uniq(cases)) < 6:
        cases.append((f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}",))
    return Draft(
        pick(r, ("add_minutes", "later", "shift_clock")),
        (Arg(t, "str"),),
        "str",
        f'takes a 24-hour time `{t}` written "HH:MM" and returns the time {k} minutes later in the same format (after "23:59" comes "00:00")',
        lines(
            f'h, m = map(int, {t}.split(":"))',
            f"total = (h * 60 + m + {k}) % 1440",
            'return f"{total // 60:02d}:{total % 60:02d}"',
        ),
        oracle,
        uniq(cases),
    )


DATE_FORMATS = [
    (order, sep)
    for order in ("dmy", "mdy", "ymd")
    for sep in ("/", ".", " ")
    if (order, sep) != ("ymd", "-")
]
DATE_PARTS = [("part", p) for p in ("year", "month", "day")]


@template("parsing.dates", "medium", DATE_FORMATS + DATE_PARTS, (9, 3), group=lambda key: key[0])
def dates(key: Any, r: random.Random) -> Draft:
    a, b = key
    d = pick(r, ("date", "day_text", "stamp"))
    names = {"y": "year", "m": "month", "d": "day"}
    if a == "part":
        what, ret = f"the {b} as an integer", "int"
        body = lines(f'year, month, day = {d}.split("-")', f"return int({b})")
        oracle: Any = lambda v: int(v.split("-")[("year", "month", "day").index(b)])  # noqa: E731
    else:
        fmt = b.join({"y": "YYYY", "m": "MM", "d": "DD"}[c] for c in a)
        what, ret = f'the same date written "{fmt}"', "str"
        body = lines(
            f'year, month, day = {d}.split("-")',
            "return " + f" + {lit(b)} + ".join(names[c] for c in a),
        )
        oracle = lambda v: b.join(dict(zip("ymd", v.split("-"), strict=False))[c] for c in a)  # noqa: E731
    cases = [("2024-01-31",), ("1999-12-01",), ("0001-01-01",), ("2000-02-29",)]
    while len(uniq(cases)) < 6:
        cases.append((f"{r.randint(1900, 2099)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",))
    return Draft(
        pick(r, ("convert_date", "reformat", "date_part")),
        (Arg(d, "str"),),
        ret,
        f'takes a date `{d}` written "YYYY-MM-DD" and returns {what}',
        body,
        oracle,
        uniq(cases),
    )


EXPR_OPS = ("+-", "+*", "-*", "+-*")


@template("parsing.expression", "hard", list(EXPR_OPS), (3, 1))
def expression(key: Any, r: random.Random) -> Draft:
    ops = key
    s = pick(r, ("expr", "s", "formula"))
    listed = ", ".join(f'"{o}"' for o in ops)
    body = [
        "tokens = " + f"{s}.split()",
        "total = int(tokens[0])",
        "for i in range(1, len(tokens), 2):",
        "    value = int(tokens[i + 1])",
    ]
    for j, o in enumerate(ops):
        kw = "if" if j == 0 else "elif" if j < len(ops) - 1 else "else"
        cond = f' tokens[i] == "{o}"' if kw != "else" else ""
        body += [f"    {kw}{cond}:", f"        total {o}= value"]

    def oracle(v: str) -> int:
        toks = v.split()
        total = int(toks[0])
        for i in range(1, len(toks), 2):
            x = int(toks[i + 1])
            total = {"+": total + x, "-": total - x, "*": total * x}[toks[i]]
        return total

    cases = [("7",), (f"2 {ops[0]} 3",), (f"0 {ops[-1]} 5 {ops[0]} 1",)]
    while len(uniq(cases)) < 6:
        toks = [str(r.randint(0, 9))]
        for _ in range(r.randint(1, 4)):
            toks += [pick(r, ops), str(r.randint(0, 9))]
        cases.append((" ".join(toks),))
    return Draft(
        pick(r, ("evaluate", "calc", "left_to_right")),
        (Arg(s, "str"),),
        "int",
        f"evaluates `{s}`, made of non-negative integers and the operators {listed} separated by single spaces, strictly from left to right (no precedence), and returns the result",
        tuple([*body, "return total"]),
        oracle,
        uniq(cases),
    )


TEMPLATES = [numbers, key_value, extract, words, clock_add, dates, expression]
