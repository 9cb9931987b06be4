"""The errors of the matcher: a selector rejected when written, a value Kubernetes refuses."""

from __future__ import annotations


class CompileError(ValueError):
    """A selector that Kubernetes would refuse at admission: syntax, types, size, nesting or cost.

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


class UpstreamError(ValueError):
    """A value the Kubernetes library refuses too (a quantity, a version), in both our words.

    ``str()`` is our explanation, naming the input and what is wrong with it;
    ``upstream`` is the message Kubernetes gives for the same failure, word for
    word, or None where Kubernetes has no such failure (a limit of ours).
    Evaluation errors use ``explained()``, which puts Kubernetes' words first,
    so a person comparing with the DRA scheduler sees the same message.
    """

    def __init__(self, message: str, upstream: str | None = None) -> None:
        super().__init__(message)
        self.upstream = upstream

    def explained(self) -> str:
        text = str(self)
        if self.upstream is None or text.startswith(self.upstream):
            return text
        return f"{self.upstream}: {text}"
