"""Command-line overrides of a definition: ``key=value`` with dotted keys and TOML values.

``sweeps run FILE simulation.duration="1 s" sweep.R_Eplus=[1,2,3]`` sets ``duration`` in the
``[simulation]`` table and ``R_Eplus`` in ``[sweep]``.  The value is TOML (a number, a quoted
string, a list, an inline table, ``true``/``false``); a bare word that is not TOML
(``experiment.name=run2``) is taken as a string.  Tables are created when missing.

The result is a new definition text (:func:`apply_overrides`, TOML): the store records it,
the overrides and the original file name, so the run can be repeated without the command line.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Sequence
from typing import Any

from sweeps.errors import DefinitionError

__all__ = ["apply_overrides", "dumps_toml", "is_override", "parse_override"]

_KEY = r"[A-Za-z0-9_-]+"
_OVERRIDE_RE = re.compile(rf"^({_KEY}(?:\.{_KEY})*)=(.*)$", re.DOTALL)
_BARE_WORD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/+-]*$")


def is_override(token: str) -> bool:
    """True if ``token`` has the form ``dotted.key=value``."""
    return bool(_OVERRIDE_RE.match(token))


def parse_override(token: str) -> tuple[list[str], Any]:
    """``"sweep.R_Eplus=[1,2]"`` -> ``(["sweep", "R_Eplus"], [1, 2])``.

    Raises
    ------
    DefinitionError
        If the token is not ``key=value`` or the value is neither TOML nor a bare word.
    """
    match = _OVERRIDE_RE.match(token)
    if not match:
        raise DefinitionError("override", f"{token!r} is not KEY=VALUE (dotted keys, e.g. simulation.duration=\"1 s\")")
    key, text = match.groups()
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError as err:
        if not _BARE_WORD_RE.match(text) or text in ("true", "false"):
            raise DefinitionError(f"override {key}", f"{text!r} is not a TOML value ({err}); quote strings: "
                                  f"{key}='\"{text}\"'") from None
        value = text
    return key.split("."), value


def _set(doc: dict, keys: list[str], value: Any, token: str) -> None:
    table = doc
    for depth, key in enumerate(keys[:-1]):
        table = table.setdefault(key, {})
        if not isinstance(table, dict):
            raise DefinitionError("override", f"{token!r}: {'.'.join(keys[:depth + 1])} is a value, not a table")
    if len(keys) < 2:
        raise DefinitionError("override", f"{token!r}: the key needs its table, e.g. parameters.{keys[0]}")
    table[keys[-1]] = value


def _key(key: str) -> str:
    return key if re.fullmatch(_KEY, key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise DefinitionError("override", f"cannot write {type(value).__name__} values as TOML")


def dumps_toml(doc: dict[str, Any]) -> str:
    """TOML text of a parsed definition (tables of values; nested tables as ``[a.b]``)."""
    lines: list[str] = []

    def table(prefix: list[str], body: dict[str, Any]) -> None:
        values = {k: v for k, v in body.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in body.items() if isinstance(v, dict)}
        if prefix and (values or not tables):
            lines.extend(["", "[" + ".".join(_key(p) for p in prefix) + "]"])
        lines.extend(f"{_key(k)} = {_value(v)}" for k, v in values.items())
        for key, sub in tables.items():
            table([*prefix, key], sub)

    top = {k: v for k, v in doc.items() if not isinstance(v, dict)}
    lines.extend(f"{_key(k)} = {_value(v)}" for k, v in top.items())
    table([], {k: v for k, v in doc.items() if isinstance(v, dict)})
    return "\n".join(lines).lstrip("\n") + "\n"


def apply_overrides(text: str, overrides: Sequence[str], source: str = "<string>") -> str:
    """The definition ``text`` with ``overrides`` applied, as TOML text (``text`` itself without any).

    The new text starts with a comment naming ``source`` and the overrides.
    """
    if not overrides:
        return text
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise DefinitionError("syntax", f"invalid TOML: {err}") from None
    for token in overrides:
        keys, value = parse_override(token)
        _set(doc, keys, value, token)
    header = f"# {source} with overrides: {' '.join(overrides)}\n".replace("\n", " ").rstrip() + "\n"
    return header + dumps_toml(doc)
