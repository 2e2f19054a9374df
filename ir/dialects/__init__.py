"""Bundled dialects; importing this package registers all their ops."""

from dlac.ir.dialects import builtin, func, gemmini, graph, loop, loop_host, qgraph  # noqa: F401
