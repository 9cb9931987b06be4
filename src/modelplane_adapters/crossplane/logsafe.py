"""Client-supplied text made safe for a log line.

A composite's name, a request tag or an error message quoting a field come
from whoever can create a composite. Logged raw, a newline forges a log line
and an escape sequence rewrites a terminal; a megabyte value floods the log.
Text is therefore logged with every non-printable character escaped, and cut
to a length a person can read.
"""

from __future__ import annotations

import traceback
from typing import Final

# Longest piece of client text one log line repeats.
LOGGED_CHARS: Final = 200


def printable(value: object, limit: int = LOGGED_CHARS) -> str:
    """``value`` as one line of printable text, at most ``limit`` characters plus a note."""
    text = str(value)
    cut = len(text) > limit
    shown = "".join(c if c.isprintable() else _escape(c) for c in text[:limit])
    return f"{shown}... ({len(text)} characters)" if cut else shown


def _escape(character: str) -> str:
    return repr(character)[1:-1]


def printable_traceback(exc: BaseException, frames: int) -> str:
    """The innermost ``frames`` frames of ``exc``'s traceback, its message made printable.

    Frames hold only our code; the message (and those of the exceptions it
    was raised from) may quote client text, so each is one escaped line.
    """
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        stack = traceback.extract_tb(current.__traceback__, limit=-frames)
        lines.append(
            "".join(traceback.format_list(stack))
            + f"{type(current).__name__}: {printable(current)}"
        )
        current = current.__cause__ or current.__context__
    return "\nwhich was raised while handling or from:\n".join(reversed(lines))
