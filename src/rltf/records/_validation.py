"""Shared by every record: the ``JSON`` alias, :class:`RecordError` and the validation helpers
that ``from_dict`` uses (each failure names the place and the field)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

JSON: TypeAlias = Any  # a value that json.loads can produce


class RecordError(ValueError):
    """A record failed validation. The message names where (file:line) and which field."""

    def __init__(self, where: str, field_name: str, problem: str) -> None:
        self.where, self.field_name, self.problem = where, field_name, problem
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}field '{field_name}': {problem}")


# --------------------------------------------------------------------------------------------
# validation helpers


def _require(d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in d:
        raise RecordError(where, key, "missing")
    value = d[key]
    # bool is a subclass of int, but a JSON `true` is never a valid count or id.
    bad_bool = isinstance(value, bool) and bool not in _as_tuple(kind)
    if not isinstance(value, kind) or bad_bool:
        raise RecordError(where, key, f"expected {_kind_name(kind)}, got {type(value).__name__}")
    return value


def _optional(
    d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any
) -> Any:
    if d.get(key) is None:
        return default
    return _require(d, key, kind, where)


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _as_tuple(kind))


def _str_list(d: Mapping[str, Any], key: str, where: str, required: bool = True) -> tuple[str, ...]:
    if not required and d.get(key) is None:
        return ()
    items = _require(d, key, list, where)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise RecordError(where, f"{key}[{i}]", f"expected str, got {type(item).__name__}")
    return tuple(items)


def _reject_unknown(d: Mapping[str, Any], allowed: set[str], where: str, prefix: str = "") -> None:
    for key in d:
        if key not in allowed:
            raise RecordError(
                where, prefix + key, f"unknown field (allowed: {', '.join(sorted(allowed))})"
            )
