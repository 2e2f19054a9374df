"""Identifiers and comments that reach C are safe whatever the model calls things."""

from __future__ import annotations

import re

import pytest
from dlac.backends.c_names import CNames, c_string, comment_text


@pytest.mark.parametrize("hint", ['a*/ b', 'int', "\n", "", "9lives", "__x", "gemmini_mvin",
                                  "x" * 200, "ünïcode", 'q"uote', "main"])
def test_identifiers_are_valid_unique_c(hint: str) -> None:
    names = CNames(reserved=("main",))
    first = names.get(1, hint)
    second = names.get(2, hint)
    for name in (first, second):
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,51}", name), name
        assert name not in ("int", "main")
    assert first != second
    assert names.get(1, "other") == first


def test_comment_text_cannot_close_a_comment() -> None:
    text = comment_text("a */ int x; /* b\n\x00")
    assert "*/" not in text and "/*" not in text and "\n" not in text


def test_c_string_escapes_everything() -> None:
    assert c_string('a"b\\c\n?') == '"a\\"b\\\\c\\012\\077"'
