"""Buffers of a page or more start on a page, in C and in the weight blob: the DMA TLB
then sees the pages the co-design search timed each layer with (docs/codesign.md)."""

from __future__ import annotations

from dlac.backends.c_emit import BLOB_ALIGN, PAGE_BYTES, _align


def test_page_sized_buffers_are_page_aligned() -> None:
    assert _align("elem_t", PAGE_BYTES) == f"__attribute__((aligned({PAGE_BYTES})))"
    assert _align("acc_t", PAGE_BYTES // 4) == f"__attribute__((aligned({PAGE_BYTES})))"
    assert _align("elem_t", PAGE_BYTES - 1) == "row_align(1)"
    assert _align("acc_t", 16) == "row_align_acc(1)"
    assert _align("float", 1 << 20) == ""
    assert BLOB_ALIGN == PAGE_BYTES
