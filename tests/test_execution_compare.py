"""Comparison rules and the wire codec (no sandbox needed)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rltf.execution.codec import NotPlain, ProtocolError, decode, encode
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


@pytest.mark.parametrize("value", [Rigged(1), object(), b"bytes", [1, Rigged(2)], {1: object()}])
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
