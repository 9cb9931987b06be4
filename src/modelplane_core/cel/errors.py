"""The one error a selector raises when it is written: where, and what is wrong."""

from __future__ import annotations


class CompileError(ValueError):
    """A selector that Kubernetes would refuse at admission: syntax, types, size or cost.

    ``line`` and ``column`` are 1-based positions in the expression (None when
    the problem is the expression as a whole, such as its length), so an
    editor or ``modelplane cel check`` can point at the offending token.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        where = f"{line}:{column}: " if line is not None and column is not None else ""
        super().__init__(f"{where}{message}")

    def pointer(self, expression: str) -> str:
        """The offending line of ``expression`` with a caret under the column."""
        if self.line is None or self.column is None:
            return expression
        lines = expression.splitlines() or [""]
        text = lines[min(self.line, len(lines)) - 1]
        return f"{text}\n{' ' * (self.column - 1)}^"
