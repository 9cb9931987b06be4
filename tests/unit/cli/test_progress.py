"""The "still working" line: drawn only on a terminal, only for long work, then erased."""

from __future__ import annotations

import io
import threading
import time

from modelplane_adapters.cli.progress import Activity


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as sys.stderr does on a console."""

    def isatty(self) -> bool:
        return True


def test_long_work_on_a_terminal_shows_what_runs_and_then_erases_it() -> None:
    stream = Terminal()
    with Activity("scheduling 5 deployments", stream=stream, delay=0.0, interval=0.01):
        for _ in range(500):
            if "scheduling" in stream.getvalue():
                break
            time.sleep(0.01)
    text = stream.getvalue()
    assert text.startswith("\rscheduling 5 deployments ... 0 s")
    *_, blank, after = text.rsplit("\r", 2)
    assert blank.strip() == ""  # the line is blanked ...
    assert after == ""  # ... and the cursor is back at its start


def test_short_work_draws_nothing() -> None:
    stream = Terminal()
    with Activity("reading", stream=stream, delay=60):
        pass
    assert stream.getvalue() == ""


def test_nothing_is_drawn_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with Activity("reading", stream=stream, delay=0.0, interval=0.01):
        threading.Event().wait(0.1)
    assert stream.getvalue() == ""
