"""Comparison rules and the wire codec (no sandbox needed)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter, OrderedDict, defaultdict, deque, namedtuple
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rltf.execution.codec import MatchValue, NotPlain, ProtocolError, decode, encode
from rltf.execution.compare import call_equal, stdio_equal, values_equal


@pytest.mark.parametrize(
    ("out", "exp"),
    [
        ("3\n", "3\n"),
        ("3", "3\n"),  # trailing newline
        ("3\r\n4\r\n", "3\n4\n"),  # line endings
        ("  1 2   3 \n\n", "1 2 3\n"),  # spaces, blank lines
        ("0.3333333\n", "0.33333333\n"),  # float tolerance (numpy allclose defaults)
        ("3.0\n", "3\n"),
        ("1e3\n", "1000\n"),
        ("YES\n\n\nNO", "YES\nNO\n"),
        ("", ""),
    ],
)
def test_stdio_equal_accepts(out: str, exp: str) -> None:
    assert stdio_equal(out, exp)


@pytest.mark.parametrize(
    ("out", "exp"),
    [
        ("4\n", "3\n"),
        ("yes\n", "YES\n"),  # case matters (APPS too)
        ("1 2\n", "1\n2\n"),  # line structure matters
        ("2 1\n", "1 2\n"),  # order matters: APPS's set() leniency is deliberately not copied
        ("1 1 2\n", "1 2\n"),
        ("0.34\n", "0.33\n"),
        ("nan\n", "0\n"),
        ("1_000\n", "1000\n"),  # Python's float() would accept this; a judge must not
        ("", "0\n"),
        ("3\n", ""),
    ],
)
def test_stdio_equal_rejects(out: str, exp: str) -> None:
    assert not stdio_equal(out, exp)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        (3, [3]),  # APPS wraps call-based expected values in a one-element list
        ([1, 2], [[1, 2]]),
        ((1, 2), [1, 2]),  # tuples are lists in JSON ground truth
        ([(1, 2), (3, 4)], [[1, 2], [3, 4]]),
        (0.1 + 0.2, 0.3),
        ({"a": [1.0, 2]}, {"a": [1, 2.0]}),
        (True, 1),  # Python equality, as APPS compares with ==
        ("x", ["x"]),
    ],
)
def test_call_equal_accepts(value: object, expected: object) -> None:
    assert call_equal(value, expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, [1, 2]),  # APPS accepts this (element 0 of any list); we only unwrap singletons
        ([1, 2], [2, 1]),
        (None, 0),
        (float("nan"), float("nan")),
        ({1, 2}, [1, 2]),
        ("3", 3),
        (0.31, 0.3),
    ],
)
def test_call_equal_rejects(value: object, expected: object) -> None:
    assert not call_equal(value, expected)


def test_values_equal_depth_guard() -> None:
    deep: list = []
    cur = deep
    for _ in range(500):
        cur.append([])
        cur = cur[0]
    assert not values_equal(deep, [])


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.integers() | st.text(), inner, max_size=3)
        | st.frozensets(st.integers() | st.text(), max_size=3)
    ),
    max_leaves=20,
)


@given(plain)
def test_codec_round_trip_keeps_exact_types(value: object) -> None:
    back = decode(encode(value))
    assert back == value
    assert type(back) is type(value)


def test_codec_big_ints_and_specials() -> None:
    for v in (10**5000, -(10**400), 2**53, -(2**53)):
        assert decode(encode(v)) == v
    back = decode(encode([math.inf, -0.0]))
    assert back[0] == math.inf and math.copysign(1, back[1]) == -1


class Rigged(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


class RiggedCounter(Counter):  # a subclass of a tagged stdlib type stays non-plain
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


class RiggedBytes(bytes):
    pass


Point = namedtuple("Point", "x y")


class RiggedPoint(Point):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = tuple.__hash__


@pytest.mark.parametrize(
    "value",
    [
        Rigged(1),
        object(),
        RiggedBytes(b"bytes"),
        [1, Rigged(2)],
        {1: object()},
        RiggedCounter("ab"),
        RiggedPoint(1, 2),
        deque([Rigged(1)]),
    ],
)
def test_codec_refuses_non_plain(value: object) -> None:
    with pytest.raises(NotPlain):
        encode(value)


def test_codec_refuses_cycles() -> None:
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(NotPlain):
        encode(cyclic)


@pytest.mark.parametrize(
    "forged",
    [
        b'{"__eq__": 1}',  # an untagged object
        b'{"t": "set", "v": [[1]]}',  # unhashable member
        b'{"t": "dict", "v": [[[1], 2]]}',  # unhashable key
        b'{"t": "pickle", "v": []}',
        b"1" * 5000,  # a decimal int too long to parse quickly
        b"[" * 5000 + b"]" * 5000,
        b"not json",
    ],
)
def test_decode_rejects_forged_values(forged: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode(forged)


def test_decode_only_builds_plain_types() -> None:
    value = decode(json.dumps({"t": "tuple", "v": [1, {"t": "frozenset", "v": [2]}]}).encode())
    assert value == (1, frozenset({2}))


@pytest.mark.parametrize(
    "value",
    [
        Counter("abracadabra"),
        OrderedDict([("b", 1), ("a", (2, 3))]),
        defaultdict(list, {1: [2]}),
        deque([1, (2, 3)]),
        Point(1, [2]),
        Decimal("1.10"),
        Fraction(-7, 3),
        complex(-2, 2.4492935982947064e-16),
        b"\x00\xffab",
        bytearray(b"xy"),
        range(1, 10, 3),
        [Counter(a=1), {"k": deque()}],
    ],
)
def test_codec_stdlib_values_round_trip_with_python_equality(value: object) -> None:
    back = decode(encode(value))
    assert back == value
    assert type(back).__name__ == type(value).__name__


def test_decoded_stdlib_values_keep_python_semantics() -> None:
    # OrderedDict vs OrderedDict is order-sensitive; vs a dict it is not (Python's rule)
    od = decode(encode(OrderedDict([("a", 1), ("b", 2)])))
    assert od != OrderedDict([("b", 2), ("a", 1)]) and od == {"b": 2, "a": 1}
    assert decode(encode(deque([1, 2]))) != [1, 2]  # a deque never equals a list
    assert decode(encode(Point(1, 2))) == (1, 2)  # a namedtuple equals a tuple
    assert decode(encode(Point(1, 2))).x == 1  # and keeps its fields
    assert decode(encode(Counter("aab"))) == {"a": 2, "b": 1}
    assert decode(encode(defaultdict(int, {1: 2}))) == {1: 2}
    assert decode(encode(Decimal("0.1"))) != 0.1 and decode(encode(Fraction(1, 2))) == 0.5


def test_match_values_are_true_and_keep_their_groups() -> None:
    m = re.search(r"(\d+)-(x)?", "ab 12-")
    back = decode(encode(m))
    assert isinstance(back, MatchValue) and bool(back)
    assert back.group() == "12-" and back.group(1) == "12" and back.groups() == ("12", None)
    assert back.span() == m.span() and back.start() == 3 and back[1] == "12"
    assert back != decode(encode(m))  # matches compare by identity, as re.Match does


@pytest.mark.parametrize(
    "forged",
    [
        b'{"t": "Counter", "v": [[[1], 2]]}',  # unhashable key
        b'{"t": "Counter", "v": [1]}',
        b'{"t": "Decimal", "v": ["not a number"]}',
        b'{"t": "Fraction", "v": [1, 0]}',
        b'{"t": "Fraction", "v": [1.5, 2]}',
        b'{"t": "complex", "v": ["1", 2]}',
        b'{"t": "bytes", "v": ["zz"]}',
        b'{"t": "range", "v": [0, 1]}',
        b'{"t": "range", "v": [0, 1, 0]}',
        b'{"t": "namedtuple", "v": ["P", ["x", "import"], [1, 2]]}',
        b'{"t": "namedtuple", "v": ["P", ["x"], [1, 2]]}',
        b'{"t": "match", "v": [[], [0, 1]]}',
        b'{"t": "match", "v": [["a"], [0]]}',
        b'{"t": "ref", "v": 1}',  # a reference where none is expected
    ],
)
def test_decode_rejects_forged_stdlib_values(forged: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode(forged)
