"""Source locations and the one error type the IR raises for bad input.

Every user-facing IR problem becomes a `DiagnosticError` whose string is the complete
`file:line:col: error: message` line, so tools can print it and exit without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class Location:
    """Where an op came from; printed as `loc(...)` when debug info is requested."""

    __slots__ = ()

    def prefix(self) -> str:
        """The `file:line:col` (or name) part that starts a diagnostic line."""
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class UnknownLoc(Location):
    def prefix(self) -> str:
        return "<unknown>"

    def text(self) -> str:
        return "loc(unknown)"


@dataclass(frozen=True, slots=True)
class FileLineColLoc(Location):
    filename: str
    line: int
    col: int

    def prefix(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}"

    def text(self) -> str:
        return f"loc({_quote(self.filename)}:{self.line}:{self.col})"


@dataclass(frozen=True, slots=True)
class NameLoc(Location):
    """A named source entity, e.g. an ONNX node name."""

    name: str

    def prefix(self) -> str:
        return self.name

    def text(self) -> str:
        return f"loc({_quote(self.name)})"


UNKNOWN_LOC = UnknownLoc()

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _quote(s: str) -> str:
    """Quote a string the way the IR lexer reads it back."""
    out = []
    for ch in s:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\{ord(ch):02X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def quote_string(s: str) -> str:
    return _quote(s)


def unquote_string(token: str) -> str:
    """Inverse of `quote_string` for a lexed `"..."` token."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    out = []
    i = 0
    simple = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        else:
            out.append(chr(int(body[i + 1:i + 3], 16)))
            i += 3
    return "".join(out)


class DiagnosticError(Exception):
    """Bad IR: `str(err)` is one line `file:line:col: error: message`."""

    exit_code = 1

    def __init__(self, loc: Location | None, message: str) -> None:
        self.loc = loc or UNKNOWN_LOC
        self.message = message.replace("\n", " ")
        super().__init__(f"{self.loc.prefix()}: error: {self.message}")
