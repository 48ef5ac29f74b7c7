"""Assert tests (MBPP, HumanEval) decomposed so that the assertion runs in the trusted worker.

The test code (setup and each assert statement, loops included) is executed *here*, with every
name the program defines bound to a proxy. Calling a proxy is a remote call into the sandboxed
child, which runs only the program's function and returns its result as plain data (or an opaque
reference to a non-plain object). So in ``assert f(x) == y``, ``abs(f(x) - y) < eps``,
``set(f(x)) == {...}`` or a HumanEval ``check`` body, only ``f(x)`` runs in the child; the
comparison, and the expected value ``y``, never leave the worker.

* A non-plain result is an opaque :class:`Remote`: it can be called, have attributes read (both
  remote), be iterated or measured (materialised as plain data); comparing it, hashing it or
  taking its truth value fails the test. A rigged ``__eq__`` never runs.
* An exception raised by the program reaches the test code as the builtin exception of the same
  name (so ``try: f(); except ValueError`` in a test works) and otherwise fails the test as a
  runtime error with the program's own line number.
* Names defined by the setup code, builtins and ``candidate`` are never replaced by the program's.
* Residual risk, reported in ``Verdict.notes``: (1) an assert whose arguments cannot be sent as
  plain data (a lambda, an instance of a setup class) runs inside the sandbox, where a program
  could forge its result; (2) helpers the *program* defines and the test calls (HumanEval/32
  ``poly``, /38 ``encode_cyclic``, /50 ``encode_shift``) are the program's to define.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import signal
import sys
from collections.abc import Callable
from types import CodeType
from typing import Any

from rltf.execution.codec import NotPlain, ProtocolError, decode, encode
from rltf.records import AssertTests


class Control(BaseException):
    """Base of the worker's control-flow exceptions: test code's ``except Exception`` cannot
    swallow them."""


class ChildTimeout(Control):
    pass


class ChildLost(Control):
    pass


class ChildBroken(ChildLost):
    """The child sent something malformed (it is killed)."""


class NotDecomposable(Control):
    pass


class NonPlainValue(Control):
    pass


class ProgramException(Exception):
    """An exception raised by the program, re-raised in the test code."""

    info: dict[str, Any]


_EXC_CLASSES: dict[str, type[ProgramException]] = {}


def program_exception(info: dict[str, Any]) -> ProgramException:
    name = str(info.get("type", "Exception"))
    cls = _EXC_CLASSES.get(name)
    if cls is None:
        base = getattr(builtins, name, None)
        bases: tuple[type, ...] = (ProgramException,)
        if isinstance(base, type) and issubclass(base, Exception):
            bases = (base, ProgramException)
        cls = type(name, bases, {})
        _EXC_CLASSES[name] = cls
    exc = cls(str(info.get("message", "")))
    exc.info = info
    return exc


Rpc = Callable[[dict[str, Any], bytes], tuple[dict[str, Any], bytes]]


class Remote:
    """A program object living in the sandboxed child."""

    __slots__ = ("_name", "_ref", "_rpc", "_type")

    def __init__(self, rpc: Rpc, name: str | None = None, ref: int | None = None, type_: str = ""):
        self._rpc, self._name, self._ref, self._type = rpc, name, ref, type_

    def _target(self) -> dict[str, Any]:
        return {"ref": self._ref} if self._ref is not None else {"name": self._name}

    def _do(self, action: str, payload: bytes = b"", **extra: Any) -> Any:
        header, data = self._rpc(
            {"op": "rpc", "action": action, **self._target(), **extra}, payload
        )
        if "error" in header:
            raise program_exception(header["error"] if isinstance(header["error"], dict) else {})
        if "nonplain" in header:
            raise NonPlainValue(f"the program returned a non-plain value ({header['nonplain']})")
        if "ref" in header:
            return Remote(self._rpc, ref=header["ref"], type_=str(header.get("type", "")))
        try:
            return decode(data)
        except ProtocolError as e:
            raise NonPlainValue(f"malformed value from the program: {e}") from None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        def by_ref(value: Any, depth: int) -> Any:
            if type(value) is Remote and value._ref is not None and value._rpc is self._rpc:
                return {"t": "ref", "v": value._ref}
            raise NotPlain(type(value).__name__)

        try:
            payload = encode([list(args), kwargs], by_ref)
        except NotPlain as e:
            raise NotDecomposable(f"an argument is not plain data ({e})") from None
        return self._do("call", payload)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return self._do("getattr", attr=attr)

    def __iter__(self) -> Any:
        return iter(self._do("iter"))

    def __len__(self) -> int:
        n = self._do("len")
        return n if type(n) is int else 0

    def __bool__(self) -> bool:
        if self._ref is None:
            return True  # a program function, as a value, is truthy
        raise NonPlainValue(f"the truth value of a non-plain {self._type} is not trusted")

    def _refuse(self, *args: Any) -> Any:
        raise NonPlainValue(f"the program returned a non-plain value ({self._type or 'object'})")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = __contains__ = _refuse

    def __repr__(self) -> str:
        return f"<program {self._type or self._name}>"


@functools.lru_cache(maxsize=1024)
def compiled(tests: AssertTests) -> tuple[frozenset[str], CodeType, tuple[CodeType, ...]]:
    """Names the test code mentions, and its code objects (cached: k samples share a problem).
    A SyntaxError here is the dataset's fault (reported as a sandbox error)."""
    names: set[str] = set()
    for src in (tests.setup, *tests.asserts):
        names |= {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}
    setup = compile(tests.setup, "<setup>", "exec")
    asserts = tuple(compile(a, f"<assert {i}>", "exec") for i, a in enumerate(tests.asserts))
    return frozenset(names), setup, asserts


class AssertSession:
    """The test namespace of one job, in the worker."""

    def __init__(self, tests: AssertTests) -> None:
        self.tests = tests
        names, setup, self.codes = compiled(tests)
        self.ns: dict[str, Any] = {"__name__": "__test__", "__builtins__": builtins}
        exec(setup, self.ns)  # dataset code: trusted
        self.protected = set(self.ns) | set(dir(builtins))
        self.wanted = sorted(names - self.protected)
        self.helpers: list[str] = []

    def program_names(self) -> list[str]:
        """The names to ask the child about."""
        extra = [self.tests.entry_point] if self.tests.entry_point else []
        return sorted({*self.wanted, *extra} - {"candidate"})

    def bind(self, kinds: dict[str, Any], rpc: Rpc) -> None:
        """Bind proxies for the program's names (after each (re)load of the program)."""
        entry = self.tests.entry_point
        self.helpers = []
        for name in self.wanted:
            if name == "candidate" and entry:
                self.ns[name] = Remote(rpc, name=entry)
                continue
            kind = kinds.get(name)
            if not isinstance(kind, dict):
                self.ns.pop(name, None)
                continue
            if kind.get("kind") == "module":
                module = str(kind.get("module", ""))
                if module.split(".")[0] in sys.stdlib_module_names:
                    try:
                        self.ns[name] = importlib.import_module(module)
                    except ImportError:
                        self.ns.pop(name, None)
                continue
            proxy = Remote(rpc, name=name)
            self.ns[name] = proxy if kind.get("kind") == "callable" else proxy._do("get")
            if entry and name != entry and kind.get("kind") == "callable":
                self.helpers.append(name)

    def fallback_source(self, index: int) -> str:
        """Setup + assert, to run inside the child when the assert cannot be decomposed."""
        entry = self.tests.entry_point
        bind = f"candidate = {entry}\n" if entry else ""
        return f"{self.tests.setup}\n{bind}{self.tests.asserts[index]}\n"

    def run(self, index: int, seconds: float) -> None:
        """Execute assert ``index`` here with a wall-clock alarm. Raises what the test raises."""
        code = self.codes[index]
        armed = [True]

        def on_alarm(signum: int, frame: Any) -> None:
            if armed[0]:
                raise ChildTimeout()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
        try:
            exec(code, self.ns)
        finally:
            armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
