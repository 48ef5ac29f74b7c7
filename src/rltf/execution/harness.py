"""The harness inside the sandboxed child: runs the program on the worker's command and sends back
plain observations (stdout bytes, returned values, exceptions) — never a verdict.

It holds no expected output, so nothing the program does to it (patching it, writing to its
socket, exiting early) can produce a pass: the worker compares, and a missing or malformed reply
is a failure. It is imported by the zygote before privileges are dropped and uses only modules
loaded there.
"""

from __future__ import annotations

import builtins
import contextlib
import itertools
import os
import sys
import threading
import types
from typing import Any

from rltf.execution.codec import (
    ChannelClosed,
    Conn,
    NotPlain,
    ProtocolError,
    decode,
    encode,
    to_wire,
)

PROGRAM_FILE = "<program>"
PRELUDE_FILE = "<prelude>"  # the dataset's import header (APPS), run before the program
SETUP_FILE = "<program setup>"  # MBPP test_imports / test_setup_code, run after the program
MAX_ITEMS = 1_000_000  # longest sequence materialised for the worker's ``iter``
Reply = tuple[dict[str, Any], bytes]


def error_info(e: BaseException, compiling: bool = False) -> dict[str, Any]:
    """Exception type, message and line in the program's own coordinates: ``SyntaxError.lineno``
    at compile time, else the innermost traceback frame whose file is the program."""
    try:
        name = str(type(e).__name__)
    except BaseException:
        name = "Exception"
    line = None
    if compiling and isinstance(e, SyntaxError):
        line, message = e.lineno, str(e.msg)
    else:
        try:
            message = str(e)
        except BaseException:
            message = "<unprintable exception>"
        tb = e.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == PROGRAM_FILE:
                line = tb.tb_lineno
            tb = tb.tb_next
    return {"type": name[:100], "message": message[:1000], "line": line}


class Harness:
    def __init__(self, fd: int, program: str, out_fd: int, err_fd: int, out_cap: int) -> None:
        self.conn = Conn(fd)
        self.program = program
        self.out_fd, self.err_fd, self.out_cap = out_fd, err_fd, out_cap
        self.code: types.CodeType | None = None
        self.prelude: types.CodeType | None = None
        self.module: types.ModuleType | None = None
        self.handles: dict[int, Any] = {}
        self.ops = {
            "compile": self.op_compile,
            "load": self.op_load,
            "stdio": self.op_stdio,
            "call": self.op_call,
            "rpc": self.op_rpc,
            "exec": self.op_exec,
        }
        np = sys.modules.get("numpy")
        self._ndarray = getattr(np, "ndarray", None)
        self._npgeneric = getattr(np, "generic", None)

    def serve(self) -> None:
        while True:
            try:
                header, payload = self.conn.recv()
            except (ChannelClosed, ProtocolError, OSError):
                os._exit(0)
            op = self.ops.get(header.get("op", ""))
            if op is None:
                os._exit(0)  # "exit", or a command we do not know
            try:
                reply = op(header, payload)
            except BaseException as e:  # the program broke the harness: report, do not die
                reply = ({"error": error_info(e), "harness": True}, b"")
            try:
                self.conn.send(*reply)
            except BaseException:
                os._exit(0)

    # -- helpers --------------------------------------------------------------------------

    def _fresh_stdio(self, data: bytes) -> None:
        """fd 0: a new memfd holding the test input (a real file: ``os.read(0, size)`` works);
        fd 1/2: the capped memfds, emptied. Python-level streams are rebuilt on top."""
        for fd in (self.out_fd, self.err_fd):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        os.dup2(self.out_fd, 1)
        os.dup2(self.err_fd, 2)
        fd = os.memfd_create("stdin", 0)
        try:
            os.write(fd, data)
            os.lseek(fd, 0, os.SEEK_SET)
            os.dup2(fd, 0)
        finally:
            os.close(fd)
        # Python's own POSIX defaults: newline "\n" (no translation), strict UTF-8.
        stdin = open(0, encoding="utf-8", newline="\n", closefd=False)  # noqa: SIM115
        stdout = open(1, "w", encoding="utf-8", newline="\n", closefd=False)  # noqa: SIM115
        stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        # Programs that write to sys.__stdout__ must reach the same capture.
        vars(sys).update(__stdin__=stdin, __stdout__=stdout, __stderr__=stderr)

    def _stdout(self) -> tuple[dict[str, Any], bytes]:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        size = os.fstat(self.out_fd).st_size
        return {"size": size}, os.pread(self.out_fd, min(size, self.out_cap), 0)

    def _convert(self, value: Any, depth: int) -> Any:
        """numpy arrays and scalars (exact numpy types only) count as the Python values they hold,
        as they compare equal to them in the APPS harness."""
        t = type(value)
        if self._ndarray is not None and t is self._ndarray:
            return to_wire(value.tolist(), self._convert, depth + 1)
        if (
            self._npgeneric is not None
            and isinstance(value, self._npgeneric)
            and t.__module__ == "numpy"
        ):
            return to_wire(value.item(), self._convert, depth + 1)
        raise NotPlain(t.__name__)

    def _ref(self, ref: Any) -> Any:
        if type(ref) is not int or ref not in self.handles:
            raise ProtocolError(f"unknown reference {ref!r}")
        return self.handles[ref]

    def _value_reply(self, value: Any) -> Reply:
        try:
            data = encode(value, self._convert)
        except NotPlain:
            ref = len(self.handles) + 1
            self.handles[ref] = value
            try:
                tname = str(type(value).__name__)[:100]
            except BaseException:
                tname = "object"
            return {"ok": 1, "ref": ref, "type": tname, "callable": callable(value)}, b""
        if len(data) > self.out_cap:
            return {
                "error": {"type": "OutputLimit", "message": "value too large", "line": None}
            }, b""
        return {"ok": 1}, data

    # -- operations -----------------------------------------------------------------------

    def op_compile(self, header: dict[str, Any], payload: bytes) -> Reply:
        """Compile the program (and the dataset's ``prelude``, if any) separately, so the
        program's line numbers stay its own while running in the prelude's namespace, as if the
        header were prepended (the APPS harnesses prepend it as text)."""
        prelude = header.get("prelude")
        if type(prelude) is str and prelude:
            self.prelude = compile(prelude, PRELUDE_FILE, "exec", dont_inherit=True)
        try:
            self.code = compile(self.program, PROGRAM_FILE, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError) as e:
            return {"compile_error": error_info(e, compiling=True)}, b""
        return {"ok": 1}, b""

    def _run_program(self, namespace: dict[str, Any]) -> None:
        if self.prelude is not None:
            exec(self.prelude, namespace)
        assert self.code is not None
        exec(self.code, namespace)

    def op_load(self, header: dict[str, Any], payload: bytes) -> Reply:
        """Run the program's top level as a module (not ``__main__``, as APPS and HumanEval do),
        then the problem's ``setup`` in the same namespace (MBPP), and describe the requested
        global names. A failure in the setup is the program's (it defines what setup uses)."""
        if self.code is None:
            reply = self.op_compile(header, payload)
            if self.code is None:
                return reply
        assert self.code is not None
        self._fresh_stdio(b"")
        name = str(header.get("module", "solution"))
        self.module = module = types.ModuleType(name)
        module.__dict__["__builtins__"] = builtins
        sys.modules[name] = module
        setup = header.get("setup")
        try:
            self._run_program(module.__dict__)
            if type(setup) is str and setup:
                exec(compile(setup, SETUP_FILE, "exec", dont_inherit=True), module.__dict__)
        except BaseException as e:
            return {"error": error_info(e)}, b""
        kinds: dict[str, Any] = {}
        for n in header.get("names", [])[:1000]:
            if type(n) is str and n in module.__dict__:
                v = module.__dict__[n]
                if isinstance(v, types.ModuleType):
                    kinds[n] = {"kind": "module", "module": str(v.__name__)}
                else:
                    kinds[n] = {"kind": "callable" if callable(v) else "value"}
        return {"ok": 1, "names": kinds}, b""

    def op_stdio(self, header: dict[str, Any], payload: bytes) -> Reply:
        """Run the program as ``__main__`` with ``payload`` on stdin; SystemExit(0/None) is a
        normal end. Non-daemon threads are joined, as the interpreter does at exit."""
        assert self.code is not None
        self._fresh_stdio(payload)
        module = types.ModuleType("__main__")
        module.__dict__["__builtins__"] = builtins
        sys.modules["__main__"] = module
        sys.argv = ["program.py"]
        before = set(threading.enumerate())
        status: dict[str, Any] = {"ok": 1}
        try:
            self._run_program(module.__dict__)
        except SystemExit as e:
            if e.code not in (None, 0):
                status = {"error": error_info(e)}
        except BaseException as e:
            status = {"error": error_info(e)}
        try:
            for t in threading.enumerate():
                if t not in before and not t.daemon and t is not threading.current_thread():
                    t.join()
        except BaseException as e:
            status = {"error": error_info(e)}
        extra, out = self._stdout()
        return {**status, **extra}, out

    def op_call(self, header: dict[str, Any], payload: bytes) -> Reply:
        """APPS call-based: ``fn_name(*args)``, a function or a method of ``class Solution``."""
        self._fresh_stdio(b"")
        assert self.module is not None
        g = self.module.__dict__
        fn = str(header.get("fn"))
        args = decode(payload)
        if type(args) is not list:
            raise ProtocolError("arguments must be a list")
        try:
            if fn in g and callable(g[fn]):
                f = g[fn]
            elif "Solution" in g:
                f = getattr(g["Solution"](), fn)
            else:
                raise NameError(f"name '{fn}' is not defined")
            result = f(*args)
        except BaseException as e:
            return {"error": error_info(e)}, b""
        try:
            data = encode(result, self._convert)
        except NotPlain as e:
            return {"nonplain": str(e)[:100]}, b""
        if len(data) > self.out_cap:
            return {"nonplain": "a value larger than the output limit"}, b""
        return {"ok": 1}, data

    def op_rpc(self, header: dict[str, Any], payload: bytes) -> Reply:
        """One step of an assert evaluated by the worker: call, read an attribute, iterate or take
        the length of a program object (a global by name, or an earlier result by reference)."""
        self._fresh_stdio(b"")
        assert self.module is not None
        action = header.get("action")
        if "ref" in header:
            target = self._ref(header["ref"])
        else:
            name = str(header.get("name"))
            if name not in self.module.__dict__:
                return {
                    "error": {
                        "type": "NameError",
                        "message": f"name '{name}' is not defined",
                        "line": None,
                    }
                }, b""
            target = self.module.__dict__[name]
        try:
            if action == "call":
                call = decode(payload, self._ref)
                if type(call) is not list or len(call) != 2 or type(call[1]) is not dict:
                    raise ProtocolError("call payload must be [args, kwargs]")
                result = target(*call[0], **call[1])
            elif action == "getattr":
                result = getattr(target, str(header.get("attr")))
            elif action == "iter":
                result = list(itertools.islice(target, MAX_ITEMS + 1))
                if len(result) > MAX_ITEMS:
                    raise MemoryError("sequence too long")
                try:
                    return {"ok": 1}, encode(result, self._convert)
                except NotPlain as e:
                    return {"nonplain": str(e)[:100]}, b""
            elif action == "len":
                result = len(target)
            elif action == "get":
                result = target
            else:
                raise ProtocolError(f"unknown action {action!r}")
        except ProtocolError:
            raise
        except BaseException as e:
            return {"error": error_info(e)}, b""
        return self._value_reply(result)

    def op_exec(self, header: dict[str, Any], payload: bytes) -> Reply:
        """Fallback for an assert the worker could not decompose: run it here (forgeable)."""
        self._fresh_stdio(b"")
        assert self.module is not None
        try:
            exec(compile(payload.decode(), "<test>", "exec"), self.module.__dict__)
        except AssertionError:
            return {"failed": 1}, b""
        except BaseException as e:
            return {"error": error_info(e)}, b""
        return {"ok": 1}, b""
