"""Family `simulation`: step a small state machine through a sequence of events."""

from __future__ import annotations

import random
from typing import Any

from rltf.tasks.builtin._core import Arg, Draft, lit, ordinal, pick, template, uniq

VOCABS = (("add", "sub", "mul"), ("plus", "minus", "times"), ("inc", "dec", "scale"))


@template(
    "simulation.register",
    "medium",
    [(v, start, nops) for v in range(len(VOCABS)) for start in (0, 1, 10) for nops in (2, 3)],
    (13, 3),
)
def register(key: Any, r: random.Random) -> Draft:
    v, start, nops = key
    ops = VOCABS[v][:nops]
    cmds = pick(r, ("commands", "program", "ops"))
    sym = ("+", "-", "*")
    said = ("adds", "subtracts", "multiplies by")
    listed = "; ".join(f'"{o} k" {said[i]} k' for i, o in enumerate(ops))
    body = [f"value = {start}", f"for command in {cmds}:", "    op, amount = command.split()"]
    for i, o in enumerate(ops):
        body += [
            f"    {'if' if i == 0 else 'elif'} op == {lit(o)}:",
            f"        value {sym[i]}= int(amount)",
        ]

    def oracle(seq: list[str]) -> int:
        value = start
        for c in seq:
            op, k = c.split()
            value = {ops[0]: value + int(k), ops[1]: value - int(k)}.get(op, value * int(k))
        return value

    cases = [([],), ([f"{ops[0]} 5"],), ([f"{ops[1]} 3", f"{ops[1]} 3"],)]
    while len(uniq(cases)) < 6:
        cases.append(([f"{pick(r, ops)} {r.randint(0, 9)}" for _ in range(r.randint(2, 6))],))
    return Draft(
        pick(r, ("run_commands", "execute", "simulate")),
        (Arg(cmds, "lines"),),
        "int",
        f"starts with a value of {start}, applies each command of the list `{cmds}` in order ({listed}) and returns the final value",
        tuple([*body, "return value"]),
        oracle,
        uniq(cases),
    )


MOVES = ("UDLR", "NSWE", "^v<>")
ROBOT_OUT = ("position", "distance", "farthest", "returns")


@template(
    "simulation.robot",
    "hard",
    [(m, out) for m in range(len(MOVES)) for out in ROBOT_OUT],
    (9, 3),
    group=lambda key: key[1],
)
def robot(key: Any, r: random.Random) -> Draft:
    m, out = key
    up, down, left, right = list(MOVES[m])
    mv = pick(r, ("moves", "path", "steps"))
    what = {
        "position": "the final position as a list [x, y]",
        "distance": "the final distance |x| + |y| from the start",
        "farthest": "the largest distance |x| + |y| from the start reached at any moment",
        "returns": "how many moves end exactly back at the start",
    }[out]
    body = ["x = 0", "y = 0"] + (
        ["best = 0"] if out == "farthest" else ["count = 0"] if out == "returns" else []
    )
    body.append(f"for c in {mv}:")
    for i, (ch, upd) in enumerate(
        ((up, "y += 1"), (down, "y -= 1"), (left, "x -= 1"), (right, "x += 1"))
    ):
        body += [f"    {'if' if i == 0 else 'elif'} c == {lit(ch)}:", f"        {upd}"]
    if out == "farthest":
        body.append("    best = max(best, abs(x) + abs(y))")
    if out == "returns":
        body += ["    if x == 0 and y == 0:", "        count += 1"]
    body.append(
        {
            "position": "return [x, y]",
            "distance": "return abs(x) + abs(y)",
            "farthest": "return best",
            "returns": "return count",
        }[out]
    )

    def oracle(s: str) -> Any:
        x = y = best = count = 0
        for c in s:
            dx, dy = {up: (0, 1), down: (0, -1), left: (-1, 0), right: (1, 0)}[c]
            x, y = x + dx, y + dy
            best = max(best, abs(x) + abs(y))
            count += x == 0 and y == 0
        return {
            "position": [x, y],
            "distance": abs(x) + abs(y),
            "farthest": best,
            "returns": count,
        }[out]

    cases = [
        ("",),
        (up,),
        (up + down,),
        (right * 3 + up * 2,),
        (left + left + right + right + down,),
    ]
    while len(uniq(cases)) < 7:
        cases.append(("".join(pick(r, MOVES[m]) for _ in range(r.randint(3, 12))),))
    return Draft(
        pick(r, ("walk", "robot", "follow_moves")),
        (Arg(mv, "str"),),
        "ints" if out == "position" else "int",
        (
            f"moves a robot that starts at x = 0, y = 0 following the string `{mv}` ({lit(up)}: y + 1, "
            f"{lit(down)}: y - 1, {lit(left)}: x - 1, {lit(right)}: x + 1) and returns {what}"
        ),
        tuple(body),
        oracle,
        uniq(cases),
    )


BUS_OUT = [("final", 0), ("max", 0)] + [("full", c) for c in (5, 10, 20)]


@template(
    "simulation.bus",
    "medium",
    [(o, start) for o in BUS_OUT for start in (0, 5)],
    (7, 2),
    kinds=("call", "assert"),
)
def bus(key: Any, r: random.Random) -> Draft:
    (out, cap), start = key
    stops = pick(r, ("stops", "events"))
    what = {
        "final": "how many people are on the bus at the end",
        "max": "the largest number of people on the bus after any stop",
        "full": f"after how many stops there are more than {cap} people on the bus",
    }[out]
    body = [
        f"people = {start}",
        "result = 0" if out != "final" else None,
        f"for on, off in {stops}:",
        "    people += on - off",
    ]
    if out == "max":
        body.append("    result = max(result, people)")
    elif out == "full":
        body += [f"    if people > {cap}:", "        result += 1"]
    body.append("return people" if out == "final" else "return result")

    def oracle(v: list[list[int]]) -> int:
        people, best, full = start, 0, 0
        for on, off in v:
            people += on - off
            best, full = max(best, people), full + (people > cap)
        return {"final": people, "max": best, "full": full}[out]

    cases: list[tuple[Any, ...]] = [
        ([],),
        ([[3, 0]],),
        ([[10, 0], [2, 8], [0, 4]],),
        ([[4, 0], [3, 0], [5, 2], [9, 1], [0, 10]],),
    ]
    while len(uniq(cases)) < 6:
        p, seq = start, []
        for _ in range(r.randint(2, 6)):
            on = r.randint(0, 9)
            off = r.randint(0, p + on)
            p += on - off
            seq.append([on, off])
        cases.append((seq,))
    return Draft(
        pick(r, ("bus_load", "passengers", "ride")),
        (Arg(stops, "pairs"),),
        "int",
        f"simulates a bus that starts with {start} people; `{stops}` lists for each stop [people getting on, people getting off]; it returns {what}",
        tuple(row for row in body if row is not None),
        oracle,
        uniq(cases),
    )


@template(
    "simulation.josephus",
    "hard",
    [(k, mode) for k in range(2, 8) for mode in ("survivor", "order")],
    (8, 2),
    group=lambda key: key[1],
)
def josephus(key: Any, r: random.Random) -> Draft:
    k, mode = key
    n = pick(r, ("n", "people", "size"))
    what = (
        "the number of the last person left"
        if mode == "survivor"
        else "the numbers of the people in the order they leave (all of them)"
    )
    body = [f"circle = list(range(1, {n} + 1))"] + (["order = []"] if mode == "order" else [])
    body += [
        "i = 0",
        "while circle:" if mode == "order" else "while len(circle) > 1:",
        f"    i = (i + {k - 1}) % len(circle)",
    ]
    body += (
        ["    order.append(circle.pop(i))", "return order"]
        if mode == "order"
        else ["    circle.pop(i)", "return circle[0]"]
    )

    def oracle(m: int) -> Any:
        circle, i, order = list(range(1, m + 1)), 0, []
        while circle:
            i = (i + k - 1) % len(circle)
            order.append(circle.pop(i))
        return order if mode == "order" else order[-1]

    return Draft(
        pick(r, ("josephus", "circle_game", "counting_out")),
        (Arg(n, "int"),),
        "ints" if mode == "order" else "int",
        (
            f"simulates `{n}` people numbered 1 to `{n}` standing in a circle: counting starts at person 1 and every "
            f"{ordinal(k)} person leaves the circle (counting goes on from the next one); it returns {what}"
        ),
        tuple(body),
        oracle,
        uniq([(1,), (2,), (k,), (5,), (7,), (r.randint(8, 20),)]),
        note=f"`{n}` is at least 1.",
    )


@template(
    "simulation.bank",
    "medium",
    # For "refused" only start + overdraft matters, so that variant always starts at 0.
    [
        (o, start, out)
        for o in (0, 10, 50, 100)
        for start in (0, 100)
        for out in ("balance", "refused")
        if start == 0 or out == "balance"
    ],
    (9, 3),
    group=lambda key: key[2],
)
def bank(key: Any, r: random.Random) -> Draft:
    o, start, out = key
    xs = pick(r, ("amounts", "transactions", "changes"))
    floor = f"-{o}" if o else "0"
    what = "the final balance" if out == "balance" else "how many transactions were refused"
    body = (
        [f"balance = {start}"]
        + (["refused = 0"] if out == "refused" else [])
        + [
            f"for amount in {xs}:",
            f"    if balance + amount >= {floor}:",
            "        balance += amount",
        ]
    )
    if out == "refused":
        body += ["    else:", "        refused += 1", "return refused"]
    else:
        body.append("return balance")

    def oracle(v: list[int]) -> int:
        bal, bad = start, 0
        for a in v:
            if bal + a >= -o:
                bal += a
            else:
                bad += 1
        return bal if out == "balance" else bad

    cases = [
        ([],),
        ([-5],),
        ([50, -20, -40],),
        ([-200, 300, -150],),
        ([-5, -10, -50, -45, 200, -330],),
    ]
    while len(uniq(cases)) < 6:
        cases.append(([r.randint(-120, 100) for _ in range(r.randint(2, 7))],))
    return Draft(
        pick(r, ("bank_account", "apply_transactions", "ledger")),
        (Arg(xs, "ints"),),
        "int",
        (
            f"starts an account with a balance of {start} and applies the amounts in `{xs}` in order (positive: deposit, "
            f"negative: withdrawal); a transaction that would bring the balance below {floor} is refused; it returns {what}"
        ),
        tuple(body),
        oracle,
        uniq(cases),
    )


@template(
    "simulation.match",
    "medium",
    [("first_to", k) for k in range(2, 7)] + [("winner", 0), ("diff", 0), ("lead", 0)],
    (6, 2),
    group=lambda key: key[0],
)
def match(key: Any, r: random.Random) -> Draft:
    mode, k = key
    s = pick(r, ("rounds", "results", "games"))
    body = (
        ["a = 0", "b = 0"]
        + (["best = 0"] if mode == "lead" else [])
        + [f"for c in {s}:", '    if c == "A":', "        a += 1", "    else:", "        b += 1"]
    )
    if mode == "first_to":
        body += [
            f"    if a == {k}:",
            '        return "A"',
            f"    if b == {k}:",
            '        return "B"',
            'return "none"',
        ]
        what, ret = f'"A" or "B", whoever first wins {k} rounds, or "none" if nobody does', "str"
    elif mode == "winner":
        body += ["if a > b:", '    return "A"', "if b > a:", '    return "B"', 'return "draw"']
        what, ret = 'the player with more won rounds ("A" or "B"), or "draw"', "str"
    elif mode == "diff":
        body.append("return a - b")
        what, ret = 'the number of rounds won by "A" minus those won by "B"', "int"
    else:
        body += ["    best = max(best, a - b)", "return best"]
        what, ret = 'the largest lead that "A" had over "B" at any moment (0 if never ahead)', "int"

    def oracle(v: str) -> Any:
        a = b = best = 0
        for c in v:
            a, b = (a + 1, b) if c == "A" else (a, b + 1)
            best = max(best, a - b)
            if mode == "first_to" and k in (a, b):
                return "A" if a == k else "B"
        if mode == "first_to":
            return "none"
        if mode == "winner":
            return "A" if a > b else "B" if b > a else "draw"
        return a - b if mode == "diff" else best

    cases = [
        ("",),
        ("A",),
        ("B" * k + "A" * k,),
        ("AB" * 3,),
        ("AABBB",),
        ("BBAAAA",),
        ("A" * (k - 1) + "B" * k,),
    ]
    while len(uniq(cases)) < 6:
        cases.append(("".join(pick(r, "AB") for _ in range(r.randint(3, 12))),))
    return Draft(
        pick(r, ("match_result", "score_game", "referee")),
        (Arg(s, "str"),),
        ret,
        f'reads the string `{s}`, where each character is the winner of one round ("A" or "B"), and returns {what}',
        tuple(body),
        oracle,
        uniq(cases),
    )


TEMPLATES = [register, robot, bus, josephus, bank, match]
