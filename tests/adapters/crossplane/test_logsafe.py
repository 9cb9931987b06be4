"""The function's log lines: client text escaped and capped, so no request can forge a line."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from modelplane_adapters.crossplane.function import run_function
from modelplane_adapters.crossplane.logsafe import printable, printable_traceback
from modelplane_adapters.crossplane.translate import build_request
from modelplane_core.cache import Cache
from modelplane_core.compose import Composition, Observed

FORGED = "\n2026-01-01 00:00:00 ERROR modelplane.function: tag=admin all clear\x1b[2J"


def endpoint(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "modelplane.ai/v1alpha1",
        "kind": "ModelEndpoint",
        "metadata": {"name": name, "namespace": "ml-team"},
        "spec": {"url": "https://api.together.xyz/"},
    }


def lines_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [line for r in caplog.records for line in r.getMessage().splitlines()]


def test_printable_escapes_control_characters_and_caps_length() -> None:
    assert printable("a\nb\x1b[0m\tc") == "a\\nb\\x1b[0m\\tc"
    assert printable("ok ü 日本") == "ok ü 日本"
    long = printable("x" * 10_000)
    assert long == "x" * 200 + "... (10000 characters)"


def test_a_crashing_composer_logs_client_text_on_one_line_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(_: Observed[Any], _cache: Cache | None) -> Composition:
        raise ValueError(f"cannot use {FORGED}")

    req = build_request(endpoint("e" + FORGED))
    req.meta.tag = "t" + FORGED + "y" * 5000
    with caplog.at_level(logging.DEBUG, logger="modelplane.function"):
        run_function(req, lookup=lambda _cls: broken)
    lines = lines_of(caplog)
    assert lines, "nothing was logged"
    assert not any(line.startswith("2026-01-01") for line in lines), lines
    assert not any("\x1b" in line for line in lines)
    (header,) = [line for line in lines if "composing" in line]
    assert header.startswith("tag=t\\n2026-01-01")
    assert "... (5" in header  # the 5 KB tag is cut
    assert lines[-1].startswith("ValueError: cannot use \\n2026-01-01")


def test_a_refused_request_logs_its_tag_escaped(caplog: pytest.LogCaptureFixture) -> None:
    req = build_request({"apiVersion": "modelplane.ai/v1alpha1", "kind": "Nope" + FORGED})
    req.meta.tag = FORGED
    with caplog.at_level(logging.INFO, logger="modelplane.function"):
        run_function(req)
    (line,) = lines_of(caplog)
    assert line.startswith("tag=\\n2026-01-01")
    assert "refused" in line


def test_tracebacks_keep_their_frames_and_chain() -> None:
    try:
        try:
            {}["missing"]
        except KeyError as inner:
            raise RuntimeError("outer\nline") from inner
    except RuntimeError as exc:
        text = printable_traceback(exc, frames=5)
    assert "KeyError: 'missing'" in text
    assert text.rstrip().endswith("RuntimeError: outer\\nline")
    assert 'File "' in text
