"""The error type every user-facing failure derives from.

Command-line tools catch `DlacError` and print its one-line message (no traceback), so any
module that rejects bad input raises a subclass of it.
"""


class DlacError(Exception):
    """A user-facing error: `str(err)` is the complete one-line message."""

    exit_code: int = 1
