"""Family `grids`: two-dimensional lists: row/column aggregates, building, flipping, neighbours, paths."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from rltf.tasks.builtin._core import Arg, Draft, lines, lit, pick, template, uniq
from rltf.tasks.builtin._ops import MAPS, map_code, map_fn, map_text

GRID_NAMES = ("grid", "matrix", "board", "table")


def rand_grid(r: random.Random, h: int, w: int, lo: int = -5, hi: int = 9) -> list[list[int]]:
    return [[r.randint(lo, hi) for _ in range(w)] for _ in range(h)]


def grid_cases(
    r: random.Random, square: bool = False, empty: bool = True
) -> tuple[tuple[Any, ...], ...]:
    cases: list[tuple[Any, ...]] = [([],)] if empty else []
    cases += [([[5]],), ([[1, 2], [3, 4]],)]
    while len(uniq(cases)) < 6:
        h = r.randint(2, 4)
        cases.append((rand_grid(r, h, h if square else r.randint(1, 4)),))
    return uniq(cases)


AXIS_OPS = (
    [(op, axis) for op in ("sum", "max", "min") for axis in ("rows", "cols")]
    + [("total", None), ("diag", None)]
    + [("count", t) for t in range(-2, 6)]
)


@template("grids.aggregate", "easy", AXIS_OPS, (12, 3))
def aggregate(key: Any, r: random.Random) -> Draft:
    op, arg = key
    g = pick(r, GRID_NAMES)
    if op in ("sum", "max", "min"):
        src, each = (f"row in {g}", "row") if arg == "rows" else (f"col in zip(*{g})", "col")
        code, ret = f"[{op}({each}) for {src}]", "ints"
        word = {"sum": "sum", "max": "largest value", "min": "smallest value"}[op]
        what = f"the {word} of each {'row' if arg == 'rows' else 'column'}, as a list"
        table: dict[str, Callable[..., Any]] = {"sum": sum, "max": max, "min": min}
        fold = table[op]
        oracle: Any = (
            (lambda v: [fold(x) for x in v])
            if arg == "rows"
            else (lambda v: [fold(c) for c in zip(*v, strict=False)])
        )
    elif op == "total":
        code, ret, what, oracle = (
            f"sum(sum(row) for row in {g})",
            "int",
            "the sum of all its values",
            lambda v: sum(map(sum, v)),
        )
    elif op == "diag":
        code, ret = f"sum({g}[i][i] for i in range(len({g})))", "int"
        what, oracle = (
            "the sum of its main diagonal (top-left to bottom-right)",
            lambda v: sum(v[i][i] for i in range(len(v))),
        )
    else:
        code, ret = f"sum(1 for row in {g} for v in row if v > {arg})", "int"
        what, oracle = (
            f"how many of its values are greater than {arg}",
            lambda v: sum(1 for row in v for x in row if x > arg),
        )
    square = op == "diag" or arg == "cols"
    return Draft(
        pick(r, (f"{op}_grid", "grid_stat", "scan_grid")),
        (Arg(g, "grid"),),
        ret,
        f"takes a {'square ' if square else ''}grid `{g}` (a list of rows, each a list of integers) and returns {what}",
        lines(f"return {code}"),
        oracle,
        (
            *grid_cases(r, square=square, empty=op not in ("max", "min")),
            ([[-3, -2, -1], [0, 1, 2], [3, 4, 5]],),
        ),
        note="Every row has at least one value." if op in ("max", "min") else "",
    )


CELLS = {
    "mul": ("i * j", "the row index times the column index"),
    "add": ("i + j", "the row index plus the column index"),
    "flat": ("i * {cols} + j", "its position when counting the cells row by row"),
    "parity": ("(i + j) % 2", "(row index + column index) modulo 2"),
    "max": ("max(i, j)", "the larger of the row index and the column index"),
}


@template(
    "grids.build",
    "medium",
    [(c, k) for c in CELLS for k in range(0, 4)],
    (12, 3),
    kinds=("call", "assert"),
)
def build(key: Any, r: random.Random) -> Draft:
    cell, k = key
    rows, cols = pick(r, (("rows", "cols"), ("h", "w"), ("n", "m")))
    expr, text = CELLS[cell]
    expr = expr.format(cols=cols) + (f" + {k}" if k else "")
    text += f", plus {k}" if k else ""
    fn = {
        "mul": lambda i, j, w: i * j,
        "add": lambda i, j, w: i + j,
        "flat": lambda i, j, w: i * w + j,
        "parity": lambda i, j, w: (i + j) % 2,
        "max": lambda i, j, w: max(i, j),
    }[cell]
    return Draft(
        pick(r, ("make_grid", "build_table", "table_of")),
        (Arg(rows, "int"), Arg(cols, "int")),
        "grid",
        f"returns a grid with `{rows}` rows and `{cols}` columns (a list of rows) where the cell in row i, column j (both counted from 0) holds {text}",
        lines(f"return [[{expr} for j in range({cols})] for i in range({rows})]"),
        lambda h, w: [[fn(i, j, w) + k for j in range(w)] for i in range(h)],
        uniq([(0, 3), (1, 1), (2, 3), (3, 2), (r.randint(2, 5), r.randint(2, 5)), (4, 4)]),
    )


GEO = {
    "mirror": ("[row[::-1] for row in {g}]", "mirrors it left to right"),
    "upside": ("list(reversed({g}))", "turns it upside down (the last row first)"),
    "transpose": ("[list(col) for col in zip(*{g})]", "transposes it (rows become columns)"),
}
GEO_KEYS = [(geo, None) for geo in GEO] + [(geo, m) for geo in GEO for m in MAPS[::5]]


@template(
    "grids.transform",
    "medium",
    GEO_KEYS,
    (14, 3),
    group=lambda key: key[0],
    kinds=("call", "assert"),
)
def transform(key: Any, r: random.Random) -> Draft:
    geo, m = key
    g = pick(r, GRID_NAMES)
    code, text = GEO[geo]
    geo_fn = {
        "mirror": lambda v: [row[::-1] for row in v],
        "upside": lambda v: v[::-1],
        "transpose": lambda v: [list(c) for c in zip(*v, strict=False)],
    }[geo]
    if m is None:
        body, core, oracle = (
            lines(f"return {code.format(g=g)}"),
            f"{text} and returns the new grid",
            geo_fn,
        )
    else:
        f = map_fn(m)
        body = lines(
            f"{g} = {code.format(g=g)}",
            f"return [[{map_code(m, 'v')} for v in row] for row in {g}]",
        )
        core = f"{text}, then replaces each value v by {map_text(m, 'v')}, and returns the new grid"
        oracle = lambda v: [[f(x) for x in row] for row in geo_fn(v)]  # noqa: E731
    return Draft(
        pick(r, ("reshape", "flip_grid", "transform_grid")),
        (Arg(g, "grid"),),
        "grid",
        f"takes a rectangular grid `{g}` (a list of rows of integers), {core}",
        body,
        oracle,
        grid_cases(r),
    )


NEIGH = {
    4: ((-1, 0), (1, 0), (0, -1), (0, 1)),
    8: ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)),
}


@template(
    "grids.neighbours",
    "hard",
    [(mode, k) for mode in ("peaks", "valleys", "equal") for k in (4, 8)],
    (4, 2),
)
def neighbours(key: Any, r: random.Random) -> Draft:
    mode, k = key
    g = pick(r, GRID_NAMES)
    cmp, what = {
        "peaks": (">=", "strictly greater than all of its neighbours"),
        "valleys": ("<=", "strictly smaller than all of its neighbours"),
        "equal": ("!=", "equal to all of its neighbours"),
    }[mode]
    near = (
        "the up to 4 cells directly above, below, left and right"
        if k == 4
        else "the up to 8 surrounding cells, diagonals included"
    )
    deltas = NEIGH[k]

    def oracle(v: list[list[int]]) -> int:
        count = 0
        for i, row in enumerate(v):
            for j, x in enumerate(row):
                ns = [
                    v[i + a][j + b]
                    for a, b in deltas
                    if 0 <= i + a < len(v) and 0 <= j + b < len(v[i + a])
                ]
                ok = {
                    "peaks": all(x > y for y in ns),
                    "valleys": all(x < y for y in ns),
                    "equal": all(x == y for y in ns),
                }[mode]
                count += ok
        return count

    body = lines(
        "count = 0",
        f"for i in range(len({g})):",
        f"    for j in range(len({g}[i])):",
        "        ok = True",
        f"        for di, dj in {deltas!r}:",
        "            a = i + di",
        "            b = j + dj",
        f"            if 0 <= a < len({g}) and 0 <= b < len({g}[a]) and {g}[a][b] {cmp} {g}[i][j]:",
        "                ok = False",
        "        if ok:",
        "            count += 1",
        "return count",
    )
    return Draft(
        pick(r, (f"count_{mode}", "special_cells", "local_extremes")),
        (Arg(g, "grid"),),
        "int",
        f"returns how many cells of the grid `{g}` (a list of rows of integers) hold a value {what}; the neighbours of a cell are {near}",
        body,
        oracle,
        uniq(
            [
                ([],),
                ([[5]],),
                ([[1, 2], [3, 4]],),
                ([[2, 2], [2, 2]],),
                ([[1, 1, 1], [1, 1, 1], [1, 1, 2]],),
                (rand_grid(r, 3, 3, 0, 3),),
                (rand_grid(r, 3, 4),),
            ]
        ),
    )


@template("grids.path", "hard", ["min", "max"], (1, 1))
def path(key: Any, r: random.Random) -> Draft:
    g = pick(r, GRID_NAMES)

    def oracle(v: list[list[int]]) -> int:
        h, w = len(v), len(v[0])
        best = [[0] * w for _ in range(h)]
        for i in range(h):
            for j in range(w):
                prev = [best[a][b] for a, b in ((i - 1, j), (i, j - 1)) if a >= 0 and b >= 0]
                best[i][j] = v[i][j] + ((min if key == "min" else max)(prev) if prev else 0)
        return best[h - 1][w - 1]

    return Draft(
        pick(r, (f"{key}_path_sum", "best_path", "route_value")),
        (Arg(g, "grid"),),
        "int",
        (
            f"returns the {'smallest' if key == 'min' else 'largest'} possible sum of the values on a path from the "
            f"top-left cell to the bottom-right cell of the grid `{g}` that only moves right or down"
        ),
        lines(
            f"h = len({g})",
            f"w = len({g}[0])",
            "best = [[0] * w for _ in range(h)]",
            "for i in range(h):",
            "    for j in range(w):",
            "        if i == 0 and j == 0:",
            f"            best[i][j] = {g}[i][j]",
            "        elif i == 0:",
            f"            best[i][j] = best[i][j - 1] + {g}[i][j]",
            "        elif j == 0:",
            f"            best[i][j] = best[i - 1][j] + {g}[i][j]",
            "        else:",
            f"            best[i][j] = {key}(best[i - 1][j], best[i][j - 1]) + {g}[i][j]",
            "return best[h - 1][w - 1]",
        ),
        oracle,
        grid_cases(r, empty=False),
        note=f"`{g}` has at least one row and one column.",
    )


CHARS = ("#", "*", "x", "o")


@template(
    "grids.chars",
    "medium",
    [(c, op) for c in CHARS for op in ("count", "rows", "cols")],
    (8, 2),
    group=lambda key: key[1],
)
def chars(key: Any, r: random.Random) -> Draft:
    c, op = key
    g = pick(r, ("rows", "lines", "picture"))
    code, what, ret = {
        "count": (
            f"sum(row.count({lit(c)}) for row in {g})",
            f"how many {lit(c)} characters it contains",
            "int",
        ),
        "rows": (
            f"[row.count({lit(c)}) for row in {g}]",
            f"for each row, how many {lit(c)} characters it contains",
            "ints",
        ),
        "cols": (
            f'["".join(col).count({lit(c)}) for col in zip(*{g})]',
            f"for each column, how many {lit(c)} characters it contains",
            "ints",
        ),
    }[op]

    def oracle(v: list[str]) -> Any:
        per_row = [row.count(c) for row in v]
        per_col = [sum(1 for row in v if row[j] == c) for j in range(len(v[0]))] if v else []
        return {"count": sum(per_row), "rows": per_row, "cols": per_col}[op]

    cases: list[tuple[Any, ...]] = [([],), ([c],), ([c + ".", "." + c],)]
    while len(uniq(cases)) < 6:
        w = r.randint(1, 5)
        cases.append(
            (
                [
                    "".join(pick(r, (c, ".", c, "-")) for _ in range(w))
                    for _ in range(r.randint(1, 4))
                ],
            )
        )
    return Draft(
        pick(
            r,
            (
                {"count": "count_marks", "rows": "marks_per_row", "cols": "marks_per_column"}[op],
                "scan_picture",
                "tally_marks",
            ),
        ),
        (Arg(g, "strs"),),
        ret,
        f"takes a picture `{g}` given as a list of equally long strings (one per row) and returns {what}",
        lines(f"return {code}"),
        oracle,
        uniq(cases),
    )


TEMPLATES = [aggregate, build, transform, neighbours, path, chars]
