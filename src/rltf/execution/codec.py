"""Wire formats shared by the pool, the worker and the sandboxed child.

Frames: ``<u32 header length><u32 payload length><JSON header><payload bytes>``. Every read has a
deadline and size limits, because one end (the sandboxed child) is untrusted.

Values: plain data (None, bool, int, float, str, list, tuple, dict, set, frozenset, nested) as
JSON. Lists map to arrays; everything else is a tagged object ``{"t": tag, "v": ...}`` so the
decoder rebuilds exact types and *only* plain types. Large ints travel as hex (linear-time
parsing; decimal parsing of a million-digit int is quadratic in Python 3.11). Only the decoder's
output is ever compared, so whatever the child sends is, at worst, some plain value it could
have returned honestly.

Standard-library values whose equality Python defines travel as tagged plain data too (MBPP
solutions return them): ``Counter``, ``OrderedDict``, ``defaultdict``, ``deque``, a class made by
``collections.namedtuple``, ``Decimal``, ``Fraction``, ``complex``, ``bytes``, ``bytearray``,
``range`` and ``re.Match``. The encoder accepts only the *exact* classes (a subclass, which could
override ``__eq__``, stays non-plain); the decoder rebuilds them with the trusted process's own
classes, so a class patched inside the sandbox (``Counter.__eq__ = ...``) changes nothing here and
comparisons follow Python's semantics (an OrderedDict against an OrderedDict is order-sensitive, a
deque never equals a list, a namedtuple equals a tuple). A ``re.Match`` (a final, immutable C type:
it cannot be subclassed) becomes a :class:`MatchValue`: always true, with its groups and span,
compared by identity as Python compares matches.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import sys
import time
from collections import Counter, OrderedDict, defaultdict, deque, namedtuple
from functools import lru_cache
from typing import Any

_PREFIX = struct.Struct("<II")
MAX_HEADER = 1 << 20


class ProtocolError(Exception):
    """The other end sent something malformed or too large."""


class ChannelTimeout(Exception):
    """A deadline passed while waiting on the other end."""


class ChannelClosed(EOFError):
    """The other end closed the connection (for a child: it died)."""


class Conn:
    """A framed, deadline-aware connection over one or two file descriptors."""

    def __init__(self, rfd: int, wfd: int | None = None) -> None:
        self.rfd = rfd
        self.wfd = rfd if wfd is None else wfd
        self._buf = bytearray()

    def send(
        self, header: dict[str, Any], payload: bytes = b"", deadline: float | None = None
    ) -> None:
        data = memoryview(encode_frame(header, payload))
        while data:
            if deadline is not None:
                _wait(self.wfd, select.POLLOUT, deadline)
            try:
                n = os.write(self.wfd, data)
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError) as e:
                raise ChannelClosed(str(e)) from None
            data = data[n:]

    def recv(
        self,
        deadline: float | None = None,
        max_payload: int = 1 << 30,
        max_header: int = MAX_HEADER,
    ) -> tuple[dict[str, Any], bytes]:
        self._fill(_PREFIX.size, deadline)
        hlen, plen = _PREFIX.unpack_from(self._buf)
        if hlen > max_header or plen > max_payload:
            raise ProtocolError(f"frame too large ({hlen} + {plen} bytes)")
        total = _PREFIX.size + hlen + plen
        self._fill(total, deadline)
        raw = bytes(self._buf[_PREFIX.size : total])
        del self._buf[:total]
        try:
            header = json.loads(raw[:hlen])
        except (ValueError, RecursionError) as e:
            raise ProtocolError(f"bad frame header: {e}") from None
        if type(header) is not dict:
            raise ProtocolError("frame header is not an object")
        return header, raw[hlen:]

    def _fill(self, size: int, deadline: float | None) -> None:
        while len(self._buf) < size:
            if deadline is not None:
                _wait(self.rfd, select.POLLIN, deadline)
            try:
                chunk = self._read(max(size - len(self._buf), 1 << 16))
            except BlockingIOError:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise ChannelClosed("connection closed")
            self._buf += chunk

    def _read(self, n: int) -> bytes:
        return os.read(self.rfd, n)


class FdConn(Conn):
    """A Conn over a Unix socket that also collects descriptors passed with SCM_RIGHTS."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(sock.fileno())
        self.sock = sock
        self.fds: list[int] = []

    def _read(self, n: int) -> bytes:
        data, fds, _flags, _addr = socket.recv_fds(self.sock, n, 4)
        self.fds += fds
        return data


def encode_frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    h = json.dumps(header, separators=(",", ":")).encode()
    return _PREFIX.pack(len(h), len(payload)) + h + payload


def _wait(fd: int, event: int, deadline: float) -> None:
    poller = select.poll()
    poller.register(fd, event)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ChannelTimeout()
        if poller.poll(max(1, int(left * 1000) + 1)):
            return


# --------------------------------------------------------------------------------------------
# plain values

_SMALL_INT = 1 << 53


class NotPlain(TypeError):
    """A value outside the plain-data types."""


def to_wire(value: Any, fallback: Any = None, depth: int = 0) -> Any:
    """Convert plain data into JSON-able data. ``fallback(value, depth)`` (optional) handles any
    other type: it returns a wire form (e.g. a reference, or a numpy scalar as a Python one) or
    raises :class:`NotPlain`."""
    if depth > 100:
        raise NotPlain("nesting deeper than 100")
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value if -_SMALL_INT < value < _SMALL_INT else {"t": "int", "v": hex(value)}
    if t is float:
        return value
    if t is list:
        return [to_wire(v, fallback, depth + 1) for v in value]
    if t is tuple or t is set or t is frozenset:
        return {"t": t.__name__, "v": [to_wire(v, fallback, depth + 1) for v in value]}
    if t is dict:
        return {
            "t": "dict",
            "v": [
                [to_wire(k, fallback, depth + 1), to_wire(v, fallback, depth + 1)]
                for k, v in value.items()
            ],
        }
    tagged = _stdlib_wire(value, t, fallback, depth)
    if tagged is not None:
        return tagged
    if fallback is not None:
        return fallback(value, depth)
    raise NotPlain(t.__name__)


_MAPPINGS = {Counter: "Counter", OrderedDict: "OrderedDict", defaultdict: "defaultdict"}
_MAX_TEXT = 1 << 20  # longest Decimal / bytes text accepted by the decoder


def _loaded(module: str, name: str) -> Any:
    # Looked up, not imported: decimal and fractions map shared libraries the sandbox does not
    # preload; a program that returns a Decimal has already imported decimal.
    return getattr(sys.modules.get(module), name, None)


def _is_namedtuple_class(t: type) -> bool:
    """A class made by ``collections.namedtuple`` itself (no subclass, no own dunders)."""
    ns = t.__dict__
    return (
        t.__bases__ == (tuple,)
        and "_make" in ns
        and type(ns.get("_fields")) is tuple
        and not any(k in ns for k in ("__eq__", "__ne__", "__hash__", "__bool__", "__len__"))
    )


def _stdlib_wire(value: Any, t: type, fallback: Any, depth: int) -> Any:
    """The tagged form of an exact standard-library value (module docstring), else None."""

    def wire(v: Any) -> Any:
        return to_wire(v, fallback, depth + 1)

    if t in _MAPPINGS:
        return {"t": _MAPPINGS[t], "v": [[wire(k), wire(v)] for k, v in value.items()]}
    if t is deque:
        return {"t": "deque", "v": [wire(v) for v in value]}
    if t is complex:
        return {"t": "complex", "v": [value.real, value.imag]}
    if t is bytes or t is bytearray:
        return {"t": t.__name__, "v": [value.hex()]}
    if t is range:
        return {"t": "range", "v": [wire(value.start), wire(value.stop), wire(value.step)]}
    if t is _loaded("decimal", "Decimal"):
        return {"t": "Decimal", "v": [str(value)]}
    if t is _loaded("fractions", "Fraction"):
        return {"t": "Fraction", "v": [wire(value.numerator), wire(value.denominator)]}
    if t is _loaded("re", "Match"):
        groups = [value.group(0), *value.groups()]
        return {"t": "match", "v": [wire(groups), list(value.span())]}
    if issubclass(t, tuple) and _is_namedtuple_class(t):
        return {
            "t": "namedtuple",
            "v": [t.__name__, list(t._fields), [wire(v) for v in value]],  # type: ignore[attr-defined]
        }
    return None


class MatchValue:
    """A ``re.Match`` returned by a program, rebuilt from plain data in the trusted process:
    true (as every match is), ``group``/``groups``/``span``/``start``/``end``, compared by
    identity (``re.Match`` defines no equality)."""

    __slots__ = ("_groups", "_span")

    def __init__(self, groups: list[Any], span: tuple[int, int]) -> None:
        self._groups, self._span = tuple(groups), span

    def __bool__(self) -> bool:
        return True

    def group(self, *indices: int) -> Any:
        if not indices:
            return self._groups[0]
        picked = tuple(self._groups[i] for i in indices)
        return picked[0] if len(picked) == 1 else picked

    def __getitem__(self, index: int) -> Any:
        return self._groups[index]

    def groups(self, default: Any = None) -> tuple[Any, ...]:
        return tuple(default if g is None else g for g in self._groups[1:])

    def span(self) -> tuple[int, int]:
        return self._span

    def start(self) -> int:
        return self._span[0]

    def end(self) -> int:
        return self._span[1]

    def __repr__(self) -> str:
        return f"<re.Match object; span={self._span}, match={self._groups[0]!r}>"


@lru_cache(maxsize=256)
def _namedtuple_class(name: str, fields: tuple[str, ...]) -> type:
    return namedtuple(name, fields)


def _int(v: Any) -> int:
    if type(v) is not int:
        raise ProtocolError("expected an int")
    return v


def _stdlib_value(tag: str, v: list[Any]) -> Any:
    """Rebuild a tagged standard-library value with this process's own classes."""
    if tag in ("Counter", "OrderedDict", "defaultdict"):
        if not all(type(p) is list and len(p) == 2 for p in v):
            raise ProtocolError(f"bad {tag} item")
        items = {k: x for k, x in v}  # Counter(pairs) would count the pairs: pass a dict
        if tag == "defaultdict":
            return defaultdict(None, items)
        return Counter(items) if tag == "Counter" else OrderedDict(items)
    if tag == "deque":
        return deque(v)
    if tag == "complex" and len(v) == 2 and all(type(x) in (int, float) for x in v):
        return complex(v[0], v[1])
    if tag in ("bytes", "bytearray") and len(v) == 1 and type(v[0]) is str:
        if len(v[0]) > 2 * _MAX_TEXT:
            raise ProtocolError(f"{tag} too long")
        return (bytes if tag == "bytes" else bytearray).fromhex(v[0])
    if tag == "range" and len(v) == 3:
        return range(_int(v[0]), _int(v[1]), _int(v[2]))
    if tag == "Decimal" and len(v) == 1 and type(v[0]) is str and len(v[0]) <= _MAX_TEXT:
        from decimal import Decimal  # the trusted process imports it only when needed

        return Decimal(v[0])
    if tag == "Fraction" and len(v) == 2:
        from fractions import Fraction

        return Fraction(_int(v[0]), _int(v[1]))
    if tag == "match" and len(v) == 2 and type(v[0]) is list and v[0] and type(v[1]) is list:
        if len(v[1]) != 2:
            raise ProtocolError("bad match span")
        return MatchValue(v[0], (_int(v[1][0]), _int(v[1][1])))
    if tag == "namedtuple" and len(v) == 3 and type(v[0]) is str and type(v[2]) is list:
        fields = v[1]
        if type(fields) is not list or not all(type(f) is str for f in fields):
            raise ProtocolError("bad namedtuple fields")
        return _namedtuple_class(v[0], tuple(fields))(*v[2])
    raise ProtocolError(f"bad {tag!r} value")


_STDLIB_TAGS = frozenset(
    [
        "Counter",
        "OrderedDict",
        "defaultdict",
        "deque",
        "complex",
        "bytes",
        "bytearray",
        "range",
        "Decimal",
        "Fraction",
        "match",
        "namedtuple",
    ]
)


def encode(value: Any, fallback: Any = None) -> bytes:
    try:
        return json.dumps(to_wire(value, fallback), separators=(",", ":")).encode()
    except RecursionError:
        raise NotPlain("nesting too deep") from None


def _hook(refs: Any) -> Any:
    def hook(d: dict[str, Any]) -> Any:
        if len(d) != 2 or "t" not in d or "v" not in d:
            raise ProtocolError("untagged object")
        tag, v = d["t"], d["v"]
        if tag == "int" and type(v) is str and len(v) <= 1 << 20:
            return int(v, 16)
        if tag == "ref" and refs is not None:
            return refs(v)
        if type(v) is not list:
            raise ProtocolError(f"bad {tag!r} value")
        if tag == "tuple":
            return tuple(v)
        if tag == "set":
            return set(v)
        if tag == "frozenset":
            return frozenset(v)
        if tag == "dict":
            if not all(type(p) is list and len(p) == 2 for p in v):
                raise ProtocolError("bad dict item")
            return {k: x for k, x in v}
        if tag in _STDLIB_TAGS:
            return _stdlib_value(tag, v)
        raise ProtocolError(f"unknown tag {tag!r}")

    return hook


def decode(data: bytes, refs: Any = None) -> Any:
    """Rebuild a value from :func:`encode` output. Raises ProtocolError on anything else.
    ``refs`` (optional) resolves ``{"t": "ref"}`` ids back to objects."""
    try:
        hook = _hook(refs)
        return json.loads(data, object_hook=hook)
    except ProtocolError:
        raise
    except (ValueError, TypeError, RecursionError, KeyError, ArithmeticError) as e:
        # TypeError: an unhashable set member or dict key (only a forged message has one).
        raise ProtocolError(f"malformed value: {type(e).__name__}: {e}") from None
