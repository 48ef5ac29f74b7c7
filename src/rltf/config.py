"""Typed configuration: nested dataclasses loaded from YAML and overridden from the command line.

    cfg = load_config(TrainConfig, "configs/demo-tiny.yaml", ["optim.lr=1e-4", "seed=3"])

Unknown keys, wrong types and failed checks raise :class:`ConfigError`, whose one-line message
names the file and the dotted key. Config classes are plain (frozen) dataclasses whose fields are
str, int, float, bool, None-able versions of those, tuples/lists of them, Literal choices, or nested
config dataclasses; a class may define ``validate(self) -> None`` for cross-field checks (raise
``ValueError``; the message is reported with the file).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

C = TypeVar("C")


class ConfigError(ValueError):
    """A configuration problem, reported as one line: ``file: key: what is wrong``."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source, self.key, self.problem = source, key, problem
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key + ': ' if key else ''}{problem}")


def load_config(cls: type[C], path: str | Path | None = None, overrides: Sequence[str] = ()) -> C:
    """Build ``cls`` from a YAML file (optional) and ``key.sub=value`` overrides (YAML values)."""
    data: dict[str, Any] = {}
    source = str(path) if path is not None else "<defaults>"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(source, "", "no such config file")
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            at = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigError(source, "", f"invalid YAML{at}: {getattr(e, 'problem', e)}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                source, "", f"expected a mapping at the top level, got {type(loaded).__name__}"
            )
        data = loaded
    for key, value in parse_overrides(overrides).items():
        _set_dotted(data, key, value)
    return from_dict(cls, data, source)


def parse_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """``["optim.lr=1e-5", ...]`` -> ``{"optim.lr": 1e-5, ...}`` (values parsed as YAML)."""
    out: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError("<command line>", item, "an override must look like key.sub=value")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        out[key.strip()] = value
    return out


def nested_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """``["optim.lr=1e-5"]`` -> ``{"optim": {"lr": 1e-5}}``, to merge into a config mapping."""
    data: dict[str, Any] = {}
    for key, value in parse_overrides(overrides).items():
        _set_dotted(data, key, value)
    return data


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def from_dict(cls: type[C], data: Mapping[str, Any], source: str = "", prefix: str = "") -> C:
    """Convert a nested mapping into the dataclass ``cls``, checking every key and type."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(data, Mapping):
        raise ConfigError(
            source, prefix.rstrip(".") or "<root>", f"expected a mapping, got {type(data).__name__}"
        )
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(source, prefix + str(key), f"unknown key (known keys: {known})")
    kwargs = {
        name: _convert(hints[name], data[name], source, prefix + name)
        for name in fields
        if name in data
    }
    try:
        obj = cls(**kwargs)
    except (TypeError, ValueError) as e:  # a missing required field, or __post_init__ checks
        raise ConfigError(source, prefix.rstrip(".") or "<root>", str(e)) from None
    validate = getattr(obj, "validate", None)
    if callable(validate):
        try:
            validate()
        except ValueError as e:
            raise ConfigError(source, prefix.rstrip("."), str(e)) from None
    return obj


def _convert(tp: Any, value: Any, source: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(arg, value, source, key)
            except ConfigError as e:
                errors.append(e.problem)
        raise ConfigError(source, key, "; ".join(errors))
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(source, key, f"{value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_dict(tp, value, source, key + ".")
    if origin in (tuple, list, Sequence):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(source, key, f"expected a list, got {type(value).__name__}")
        item_tp = args[0] if args else Any
        items = [_convert(item_tp, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
        return list(items) if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(source, key, f"expected a mapping, got {type(value).__name__}")
        return dict(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):
        # YAML 1.1 reads `1e-3` (no dot) as a string; accept what Python reads as a number.
        try:
            return float(value)
        except ValueError:
            raise ConfigError(source, key, f"expected float, got {value!r}") from None
    if tp in (int, float, str, bool):
        if type(value) is not tp:
            raise ConfigError(source, key, f"expected {tp.__name__}, got {value!r}")
        return value
    raise TypeError(f"unsupported config field type {tp!r} at {key}")


def to_dict(obj: Any) -> Any:
    """A config as plain data (for YAML dumps, checkpoints and run logs)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    return obj


def dump_yaml(obj: Any, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(to_dict(obj), sort_keys=False), encoding="utf-8")
