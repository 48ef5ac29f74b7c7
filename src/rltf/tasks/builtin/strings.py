"""Family `strings`: slicing, case, affixes, counting, palindromes, ciphers."""

from __future__ import annotations

import random
from typing import Any

from rltf.tasks.builtin._core import (
    STR_NAMES,
    Arg,
    Draft,
    lines,
    lit,
    pick,
    plural,
    str_cases,
    template,
    uniq,
)

TOKENS = ("ing", "!", "_x", "pre", "ed", "?", "s", "-1", "ly", "un", ">>", "abc")


@template(
    "strings.affix",
    "easy",
    [(side, t) for side in ("prefix", "suffix", "both") for t in TOKENS],
    (20, 5),
    group=lambda key: key[0],
)
def affix(key: Any, r: random.Random) -> Draft:
    side, tok = key
    s = pick(r, STR_NAMES)
    if side == "prefix":
        core, body, oracle = (
            f"returns `{s}` with {lit(tok)} added in front",
            f"{lit(tok)} + {s}",
            lambda v: tok + v,
        )
    elif side == "suffix":
        core, body, oracle = (
            f"returns `{s}` with {lit(tok)} added at the end",
            f"{s} + {lit(tok)}",
            lambda v: v + tok,
        )
    else:
        core = f"returns `{s}` with {lit(tok)} added both in front and at the end"
        body, oracle = f"{lit(tok)} + {s} + {lit(tok)}", lambda v: tok + v + tok
    return Draft(
        pick(r, (f"add_{side}", "decorate", "wrap_word")),
        (Arg(s, "str"),),
        "str",
        core,
        lines(f"return {body}"),
        oracle,
        str_cases(r),
    )


# Postfix string operations: (name, code with {k}/{a}/{b}, description of "{o}", class, params).
OPS: dict[str, tuple[str, str, str]] = {
    "upper": (".upper()", "converts {o} to upper case", "case"),
    "lower": (".lower()", "converts {o} to lower case", "case"),
    "swap": (".swapcase()", "swaps the case of every letter of {o}", "case"),
    "title": (".title()", "capitalizes every word of {o}", "case"),
    "rev": ("[::-1]", "reverses {o}", "order"),
    "strip": (".strip()", "removes the spaces at both ends of {o}", "space"),
    "nospace": ('.replace(" ", "")', "removes all spaces from {o}", "space"),
    "head": ("[:{k}]", "keeps the first {kc} of {o}", "slice"),
    "tail": ("[{k}:]", "drops the first {kc} of {o}", "slice"),
    "last": ("[-{k}:]", "keeps the last {kc} of {o}", "slice"),
    "repl": (".replace({a}, {b})", "replaces every {a} in {o} with {b}", "replace"),
}
PAIRS = (("a", "e"), ("o", "0"), ("e", "3"), ("i", "!"), ("s", "z"), ("t", "+"))


def _op_keys() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name in OPS:
        if name in ("head", "tail", "last"):
            # 5..8, not 1..4: lists.slice owns nums[:k] for k <= 4, and the same code must not
            # appear twice in the benchmark (see tests/test_builtin_split.py).
            out += [(name, k) for k in range(5, 9)]
        elif name == "repl":
            out += [(name, p) for p in PAIRS]
        else:
            out.append((name, None))
    return out


def _code(op: tuple[str, Any]) -> str:
    name, p = op
    a, b = p if name == "repl" else ("", "")
    return OPS[name][0].format(k=p, a=lit(a), b=lit(b))


def _say(op: tuple[str, Any], obj: str) -> str:
    name, p = op
    a, b = p if name == "repl" else ("", "")
    kc = plural(p, "character") if isinstance(p, int) else ""
    return OPS[name][1].format(kc=kc, a=lit(a), b=lit(b), o=obj)


def _apply(op: tuple[str, Any], v: str) -> str:
    name, p = op
    fns = {
        "upper": str.upper,
        "lower": str.lower,
        "swap": str.swapcase,
        "title": str.title,
        "rev": lambda t: t[::-1],
        "strip": str.strip,
        "nospace": lambda t: t.replace(" ", ""),
        "head": lambda t: t[:p],
        "tail": lambda t: t[p:],
        "last": lambda t: t[-p:],
        "repl": lambda t: t.replace(*p),
    }
    return str(fns[name](v))


def _phrases(r: random.Random) -> tuple[tuple[Any, ...], ...]:
    return str_cases(
        r, ("", "a", " Ab cd ", "Hello World", "the best toast is so nice"), total=8, words=True
    )


@template("strings.transform", "easy", _op_keys(), (17, 5))
def transform(key: Any, r: random.Random) -> Draft:
    s = pick(r, STR_NAMES)
    core = f"{_say(key, f'`{s}`')} and returns the result"
    return Draft(
        pick(r, ("transform", "convert", "clean", "edit")),
        (Arg(s, "str"),),
        "str",
        core,
        lines(f"return {s}{_code(key)}"),
        lambda v: _apply(key, v),
        _phrases(r),
    )


@template(
    "strings.chain",
    "medium",
    [(o1, o2) for o1 in _op_keys() for o2 in _op_keys() if OPS[o1[0]][2] != OPS[o2[0]][2]],
    (24, 6),
    group=lambda key: (key[0][0], key[1][0]),
)
def chain(key: Any, r: random.Random) -> Draft:
    o1, o2 = key
    s = pick(r, STR_NAMES)
    core = f"{_say(o1, f'`{s}`')}, then {_say(o2, 'the result')}, and returns it"
    return Draft(
        pick(r, ("transform", "pipeline", "process", "two_steps")),
        (Arg(s, "str"),),
        "str",
        core,
        lines(f"return {s}{_code(o1)}{_code(o2)}"),
        lambda v: _apply(o2, _apply(o1, v)),
        _phrases(r),
    )


CHARSETS = ("aeiou", "xyz", "abc", "lmn", "rst", "aeo", "dgo", "ei")


@template(
    "strings.charset",
    "medium",
    [(op, cs) for op in ("count", "remove", "keep") for cs in CHARSETS],
    (14, 4),
)
def charset(key: Any, r: random.Random) -> Draft:
    op, cs = key
    s = pick(r, STR_NAMES)
    listed = ", ".join(f'"{c}"' for c in cs)
    if op == "count":
        core = f"returns how many characters of `{s}` are one of {listed}"
        body = f"return sum(1 for c in {s} if c in {lit(cs)})"
        oracle: Any = lambda v: sum(1 for c in v if c in cs)  # noqa: E731
        ret = "int"
    elif op == "remove":
        core = f"returns `{s}` without the characters {listed}"
        body = f'return "".join(c for c in {s} if c not in {lit(cs)})'
        oracle, ret = (lambda v: "".join(c for c in v if c not in cs)), "str"
    else:
        core = f"returns only the characters of `{s}` that are one of {listed}, in order"
        body = f'return "".join(c for c in {s} if c in {lit(cs)})'
        oracle, ret = (lambda v: "".join(c for c in v if c in cs)), "str"
    return Draft(
        pick(r, (f"{op}_chars", f"{op}_letters", "filter_text")),
        (Arg(s, "str"),),
        ret,
        core,
        lines(body),
        oracle,
        str_cases(r, ("", cs[0], cs + cs), total=7, words=True),
        note="Letters are compared exactly (case matters).",
    )


LABELS = ((True, False), ("yes", "no"), ("YES", "NO"), (1, 0))


@template(
    "strings.palindrome",
    "medium",
    [(mode, lab) for mode in ("plain", "case", "spaces") for lab in range(len(LABELS))],
    (8, 2),
)
def palindrome(key: Any, r: random.Random) -> Draft:
    mode, lab = key
    yes, no = LABELS[lab]
    s = pick(r, STR_NAMES)
    clean = {
        "plain": ("", lambda v: v),
        "case": (f"t = {s}.lower()", str.lower),
        "spaces": (f't = {s}.replace(" ", "").lower()', lambda v: v.replace(" ", "").lower()),
    }[mode]
    how = {"plain": "", "case": ", ignoring case", "spaces": ", ignoring spaces and case"}[mode]
    t = s if mode == "plain" else "t"
    ret = {bool: "bool", str: "str", int: "int"}[type(yes)]
    if ret == "bool":
        body = [f"return {t} == {t}[::-1]"]
        core = f"returns True if `{s}` reads the same forwards and backwards{how}, else False"
    else:
        body = [f"if {t} == {t}[::-1]:", f"    return {lit(yes)}", f"return {lit(no)}"]
        core = f"returns {lit(yes)} if `{s}` is a palindrome{how}, otherwise {lit(no)}"
    if clean[0]:
        body.insert(0, clean[0])
    norm = clean[1]
    return Draft(
        pick(r, ("is_palindrome", "palindrome", "check_palindrome")),
        (Arg(s, "str"),),
        ret,
        core,
        tuple(body),
        lambda v: yes if norm(v) == norm(v)[::-1] else no,
        uniq([("",), ("a",), ("Noon",), ("ab",), ("radar",), ("Never odd or even",), ("ab a",)]),
    )


@template(
    "strings.caesar",
    "hard",
    # Back by k is forward by 26 - k: forward 1..13 and back 1..12 are 25 different functions.
    [(k, d) for k in range(1, 14) for d in (1, -1) if d == 1 or k <= 12],
    (12, 3),
)
def caesar(key: Any, r: random.Random) -> Draft:
    k, d = key
    s = pick(r, STR_NAMES)
    way = "forward" if d == 1 else "backward"
    sign = "+" if d == 1 else "-"
    core = (
        f"shifts every lowercase letter of `{s}` {plural(k, 'place')} {way} in the alphabet "
        f'(wrapping around from "z" to "a" or back) and returns the new string'
    )
    body = lines(
        'result = ""',
        f"for c in {s}:",
        '    if "a" <= c <= "z":',
        f"        result += chr((ord(c) - 97 {sign} {k}) % 26 + 97)",
        "    else:",
        "        result += c",
        "return result",
    )

    def oracle(v: str) -> str:
        abc = "abcdefghijklmnopqrstuvwxyz"
        return "".join(abc[(abc.index(c) + d * k) % 26] if c in abc else c for c in v)

    cases = [("",), ("a",), ("z",), ("xyz abc",), (pick(r, ("hello world", "go!", "zebra 9")),)]
    cases += [(" ".join(pick(r, ("moon", "yak", "quiz", "owl")) for _ in range(3)),)]
    return Draft(
        pick(r, ("caesar", "shift_letters", "rotate_text")),
        (Arg(s, "str"),),
        "str",
        core,
        body,
        oracle,
        uniq(cases),
        note="Other characters stay as they are.",
    )


TEMPLATES = [affix, transform, chain, charset, palindrome, caesar]
