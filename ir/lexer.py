"""The IR lexer: first-character dispatch to small compiled regexes, feeding lark's LALR.

Lark's generic lexers and a single many-alternative regex both cost several microseconds
per token. Dispatching on the first character keeps each match to one short pattern, and
folding frequent multi-token shapes into single tokens (result lists with their `=`,
value lists, `key =`, and whole `: (t, t) -> t` signatures) keeps the LALR work per op low.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dlac.ir.diagnostics import DiagnosticError, FileLineColLoc
from lark import Token
from lark.lexer import Lexer

_NAME = r"[A-Za-z0-9_$.\-]+"
_STR = r"\"(?:\\[\"\\ntr]|\\[0-9A-Fa-f]{2}|[^\"\\\n])*\""
_SHAPED = r"(?:tensor|memref)<[^<>\n]*>"
_TYPE_GROUP = r"\((?:[^()%\n\"]|\"[^\"\n]*\")*\)"
_SCALAR = r"[a-z][a-z0-9]*"
_FUNC = rf"{_TYPE_GROUP}[ \t]*->[ \t]*(?:{_TYPE_GROUP}|{_SHAPED}|{_SCALAR})"

_NL = re.compile(r"(?:[ \t]*(?://[^\n]*)?\r?\n)+[ \t]*")
_WS = re.compile(r"[ \t]+")
_COMMENT = re.compile(r"//[^\n]*")
_VALUES = re.compile(rf"%{_NAME}(?:[ \t]*,[ \t]*%{_NAME})*(?:[ \t]*=(?![=]))?")
_BLOCK = re.compile(rf"\^{_NAME}")
_SYMBOL = re.compile(rf"@(?:[A-Za-z_][A-Za-z0-9_$.]*|{_STR})")
_STRING_KEY = re.compile(rf"{_STR}(?:[ \t]*=(?![=]))?")
_NUMBER = re.compile(r"-?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|inf(?![\w.$]))"
                     r"|(?P<int>-?\d+)|(?P<arrow>->)")
_WORD = re.compile(r"(?P<shaped>" + _SHAPED + r")|(?P<dense>dense<[^<>\n]*>)"
                   r"|(?P<affine>affine_map<\([^()\n]*\)(?:\[[^\]\n]*\])?[ \t]*->[ \t]*"
                   r"\((?:[^()\n]|\([^()\n]*\))*\)>)"
                   r"|(?P<word>[A-Za-z_][A-Za-z0-9_.$]*)(?P<key>[ \t]*=(?![=]))?")
_FUNC_TYPE = re.compile(_FUNC)
#: Only short dictionaries are folded; one holding a large constant is lexed token by token
#: (matching the fold pattern across megabytes of hex would exhaust memory).
_FOLD_LIMIT = 4096
_FOR_RANGE = re.compile(rf"%{_NAME}[ \t]*=[ \t]*-?\d+[ \t]+to[ \t]+-?\d+[ \t]+step[ \t]+-?\d+"
                        r"(?![\w.$])")
_FLAT_DICT = re.compile(rf"\{{(?:[^{{}}\[\]\"\n]|{_STR}|\[(?:[^\[\]{{}}\"\n]|{_STR})*\])*\}}")
_SIGNATURE = re.compile(r":[ \t]*" + _FUNC)

# A '(' or ':' that starts a whole function type or signature becomes one token.
_FOLDED = {"(": (_FUNC_TYPE, "FUNC_TYPE", "_LPAR"), ":": (_SIGNATURE, "SIGNATURE", "_COLON")}
_SIGILS = {"@": (_SYMBOL, "SYMBOL"), "^": (_BLOCK, "BLOCK_ID")}
_PUNCT = {"{": "_LBRACE", "}": "_RBRACE", "(": "_LPAR", ")": "_RPAR", "[": "_LSQB",
          "]": "_RSQB", ",": "_COMMA", ":": "_COLON", "=": "_EQUAL"}
_KEYWORDS = {"to": "_TO", "step": "_STEP", "attributes": "_ATTRIBUTES", "loc": "_LOC",
             "unknown": "_UNKNOWN", "true": "_TRUE", "false": "_FALSE", "unit": "_UNIT",
             "nan": "FLOAT", "inf": "FLOAT"}
_SCALAR_TYPE = re.compile(r"^(?:i[0-9]+|f16|f32|f64|index|none)$")

_BLANK = frozenset(" \t\r\n/")
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NUMBER_START = frozenset("0123456789-")

_new_str = str.__new__


def _token(kind: str, value: str, pos: int, line: int, col: int) -> Token:
    tok = _new_str(Token, value)
    tok.type = kind
    tok.value = value
    tok.start_pos = pos
    tok.line = line
    tok.column = col
    tok.end_line = line
    tok.end_column = col
    tok.end_pos = pos
    return tok


class LexError(DiagnosticError):
    pass


class IRLexer(Lexer):
    """Lark needs a lexer to build its tables; dlac's parser feeds `tokenize` itself."""

    def __init__(self, conf: object) -> None:
        self.conf = conf

    def lex(self, data: str) -> Iterator[Token]:  # type: ignore[override]
        return tokenize(data, "<input>")


def tokenize(text: str, filename: str, fold: bool = True, line: int = 1,
             col0: int = 0) -> Iterator[Token]:
    """Tokens of `text`; `fold=False` (for re-lexing a folded token) keeps dicts apart.

    `line` and `col0` place a fragment inside its file so diagnostics point at the source.
    """
    line_start = -col0
    pos = 0
    open_braces: list[tuple[int, int, int]] = []
    end = len(text)
    while pos < end:
        ch = text[pos]
        col = pos - line_start + 1
        if ch in _BLANK:
            m = _NL.match(text, pos)
            if m is not None:
                value = m.group()
                yield _token("_NL", value, pos, line, col)
                line += value.count("\n")
                line_start = pos + value.rfind("\n") + 1
                pos = m.end()
                continue
            m = _WS.match(text, pos) or _COMMENT.match(text, pos)
            if m is None:
                break
            pos = m.end()
            continue
        if ch == "%":
            m = _FOR_RANGE.match(text, pos)
            if m is not None:
                yield _token("FOR_RANGE", m.group(), pos, line, col)
                pos = m.end()
                continue
            m = _VALUES.match(text, pos)
            if m is None:
                break
            value = m.group()
            kind = "RESULTS" if value.endswith("=") else "VALUE_LIST"
        elif ch in _WORD_START:
            m = _WORD.match(text, pos)
            value = m.group()
            if m.group("word") is not None:
                word = m.group("word")
                if m.group("key") is not None:
                    kind = "KEY"
                elif word in _KEYWORDS:
                    kind = _KEYWORDS[word]
                elif _SCALAR_TYPE.match(word):
                    kind = "TYPE"
                elif "." in word:
                    kind = "OP_NAME"
                else:
                    kind = "IDENT"
            elif m.group("shaped") is not None:
                kind = "TYPE"
            elif m.group("dense") is not None:
                kind = "DENSE"
            else:
                kind = "AFFINE_MAP"
        elif ch in _FOLDED:
            pattern, kind, single = _FOLDED[ch]
            m = pattern.match(text, pos)
            if m is None:
                yield _token(single, ch, pos, line, col)
                pos += 1
                continue
            value = m.group()
        elif ch == '"':
            m = _STRING_KEY.match(text, pos)
            if m is None:
                raise LexError(FileLineColLoc(filename, line, col),
                               "unterminated string or bad escape (use \\\" \\\\ \\n \\t "
                               "\\r or \\XX)")
            value = m.group()
            kind = "KEY" if value.endswith("=") and not value.endswith('"') else "STRING"
        elif ch in _NUMBER_START:
            m = _NUMBER.match(text, pos)
            if m is None:
                break
            value = m.group()
            kind = "INT" if m.group("int") else "_ARROW" if m.group("arrow") else "FLOAT"
        elif (ch == "{" and fold and 0 < text.find("}", pos) - pos < _FOLD_LIMIT
              and (m := _FLAT_DICT.match(text, pos)) is not None):
            value = m.group()
            kind = "ATTR_DICT"
        elif ch in _PUNCT:
            if ch == "{":
                open_braces.append((pos, line, col))
            elif ch == "}" and open_braces:
                open_braces.pop()
            yield _token(_PUNCT[ch], ch, pos, line, col)
            pos += 1
            continue
        elif ch in _SIGILS:
            pattern, kind = _SIGILS[ch]
            m = pattern.match(text, pos)
            if m is None:
                break
            value = m.group()
        else:
            break
        yield _token(kind, value, pos, line, col)
        pos = m.end()
    if pos < end:
        raise LexError(FileLineColLoc(filename, line, pos - line_start + 1),
                       f"unexpected character {text[pos]!r}")
    if open_braces:
        yield _token("$END", "{", *open_braces[-1])
    else:
        yield _token("$END", "", pos, line, pos - line_start + 1)
