"""Pipeline strings: `pass-a,pass-b{opt=1,2 flag=true}` <-> configured pass objects.

Options inside braces are separated by spaces; a list value is comma-separated. Values are
converted by the option field's declared type, and printing a pipeline gives back text
that parses to equal passes.
"""

from __future__ import annotations

import dataclasses
import re
import typing

from dlac.passes.pass_base import ModulePass, PassError
from dlac.passes.registry import pass_class

_NAME = re.compile(r"[a-z][a-z0-9\-]*")


def parse_pipeline(text: str) -> list[ModulePass]:
    passes: list[ModulePass] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _NAME.match(text, pos)
        if m is None:
            raise PassError(f"bad pipeline at column {pos + 1}: expected a pass name in "
                            f"'{text}'")
        name = m.group()
        pos = m.end()
        options: dict[str, str] = {}
        if pos < len(text) and text[pos] == "{":
            close = text.find("}", pos)
            if close < 0:
                raise PassError(f"bad pipeline: unclosed '{{' after '{name}'")
            for item in text[pos + 1:close].split():
                key, eq, value = item.partition("=")
                if not eq or not key:
                    raise PassError(f"bad option '{item}' for pass '{name}': expected key=value")
                options[key] = value
            pos = close + 1
        passes.append(make_pass(name, options))
        if pos < len(text):
            if text[pos] != ",":
                raise PassError(f"bad pipeline at column {pos + 1}: expected ',' in '{text}'")
            pos += 1
            if pos == len(text):
                raise PassError("bad pipeline: trailing ','")
    return passes


def make_pass(name: str, options: dict[str, str]) -> ModulePass:
    cls = pass_class(name)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, object] = {}
    for key, raw in options.items():
        key_py = key.replace("-", "_")
        if key_py not in fields:
            known = ", ".join(f.replace("_", "-") for f in fields) or "none"
            raise PassError(f"pass '{name}' has no option '{key}' (options: {known})")
        kwargs[key_py] = _convert(name, key, raw, hints[key_py])
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise PassError(f"pass '{name}': {err}") from None


def _convert(pass_name: str, key: str, raw: str, hint: object) -> object:
    origin = typing.get_origin(hint)
    try:
        if origin is tuple:
            (elem, *_rest) = typing.get_args(hint)
            return tuple(_scalar(v, elem) for v in raw.split(",") if v != "")
        return _scalar(raw, hint)
    except ValueError:
        raise PassError(f"pass '{pass_name}': option '{key}' expects "
                        f"{getattr(hint, '__name__', hint)}, got '{raw}'") from None


def _scalar(raw: str, kind: object) -> object:
    if kind is bool:
        if raw in ("true", "1"):
            return True
        if raw in ("false", "0"):
            return False
        raise ValueError(raw)
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    return raw


def _format_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(_format_value(v) for v in value)
    return str(value)


def format_pass(p: ModulePass) -> str:
    """The pass with its non-default options, in pipeline syntax."""
    changed = []
    for f in dataclasses.fields(p):
        value = getattr(p, f.name)
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        if value != default:
            changed.append(f"{f.name.replace('_', '-')}={_format_value(value)}")
    return p.name + ("{" + " ".join(changed) + "}" if changed else "")


def format_pipeline(passes: list[ModulePass]) -> str:
    return ",".join(format_pass(p) for p in passes)
