"""Wire formats shared by the pool, the worker and the sandboxed child.

Frames: ``<u32 header length><u32 payload length><JSON header><payload bytes>``. Every read has a
deadline and size limits, because one end (the sandboxed child) is untrusted.

Values: plain data (None, bool, int, float, str, list, tuple, dict, set, frozenset, nested) as
JSON. Lists map to arrays; everything else is a tagged object ``{"t": tag, "v": ...}`` so the
decoder rebuilds exact types and *only* plain types. Large ints travel as hex (linear-time
parsing; decimal parsing of a million-digit int is quadratic in Python 3.11). Only the decoder's
output is ever compared, so whatever the child sends is, at worst, some plain value it could
have returned honestly.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import time
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
    if fallback is not None:
        return fallback(value, depth)
    raise NotPlain(t.__name__)


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
        if tag == "ref" and refs is not None:
            return refs(v)
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
    except (ValueError, TypeError, RecursionError, KeyError) as e:
        # TypeError: an unhashable set member or dict key (only a forged message has one).
        raise ProtocolError(f"malformed value: {type(e).__name__}: {e}") from None
