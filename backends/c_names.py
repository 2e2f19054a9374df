"""Safe, unique C identifiers for names that come from models.

ONNX node and tensor names are arbitrary strings; anything that reaches C source goes
through `CNames.get`, which keeps only `[A-Za-z0-9_]`, avoids keywords and reserved
identifiers, and deduplicates. Comments use `comment_text`, which cannot close a comment.
"""

from __future__ import annotations

import re

_C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Bool _Complex _Imaginary _Alignas _Alignof _Atomic
_Generic _Noreturn _Static_assert _Thread_local bool true false main NULL asm typeof
""".split())
_BAD = re.compile(r"[^A-Za-z0-9_]+")


def _clean(name: str) -> str:
    text = _BAD.sub("_", name).strip("_")
    text = re.sub(r"_+", "_", text)
    if not text:
        return "v"
    if text[0].isdigit():
        text = "v" + text
    if text.startswith("_") or text in _C_KEYWORDS or text.startswith(("gemmini", "dlac")):
        text = "m_" + text
    return text[:48]


class CNames:
    """Hands out identifiers, unique within one emitted program."""

    def __init__(self, reserved: tuple[str, ...] = ()) -> None:
        self.used: set[str] = set(reserved)
        self.by_key: dict[object, str] = {}

    def get(self, key: object, hint: str, prefix: str = "") -> str:
        """The identifier for `key` (stable across calls), derived from `hint`."""
        found = self.by_key.get(key)
        if found is not None:
            return found
        base = prefix + _clean(hint) if prefix else _clean(hint)
        name = base
        n = 1
        while name in self.used:
            name = f"{base}_{n}"
            n += 1
        self.used.add(name)
        self.by_key[key] = name
        return name


def comment_text(text: str) -> str:
    """Text safe inside a `/* ... */` comment: printable ASCII, no comment delimiters."""
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in text)
    return text.replace("*/", "* /").replace("/*", "/ *")[:120]


def c_string(text: str) -> str:
    """A C string literal holding `text` exactly (escaped, ASCII only)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~" and ch != "?":
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'
