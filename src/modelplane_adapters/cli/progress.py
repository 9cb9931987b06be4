"""A live "still working" line on stderr for long runs, and only on a terminal.

A command that computes for many seconds (``schedule --synthetic 5000x5000``)
must not look hung, but piped or captured output must stay clean: the line is
drawn only when the stream is a terminal, only once the work has taken longer
than ``delay`` seconds, and it is erased when the work ends. It is redrawn from
a daemon thread, so the work itself needs no callbacks.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO


class Activity:
    """``with Activity("scheduling 5000 deployments"):`` shows ``... 12 s`` while it runs."""

    def __init__(
        self,
        text: str,
        *,
        stream: TextIO | None = None,
        delay: float = 1.0,
        interval: float = 0.5,
    ) -> None:
        self.text = text
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._width = 0

    def __enter__(self) -> Activity:
        if self.stream.isatty():
            self._started = time.monotonic()
            self._thread = threading.Thread(target=self._draw, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()

    def _draw(self) -> None:
        if self._stop.wait(self.delay):
            return
        while True:
            line = f"{self.text} ... {time.monotonic() - self._started:.0f} s"
            self.stream.write("\r" + line.ljust(self._width))
            self.stream.flush()
            self._width = max(self._width, len(line))
            if self._stop.wait(self.interval):
                return
