"""Golden files: expected output kept under ``tests/golden/expected/`` and reviewed by eye.

``assert_golden("composer/model-replica-gang", text)`` compares ``text`` with the
file; run ``UPDATE_GOLDEN=1 pytest ...`` to rewrite the files after an intended
change, then read the diff before committing it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from modelplane_core.api.yamlio import dump_documents

GOLDEN_DIR = Path(__file__).resolve().parent / "golden" / "expected"


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN_DIR / f"{name}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(
            f"golden file {path} is missing; run with UPDATE_GOLDEN=1 to create it"
        )
    expected = path.read_text(encoding="utf-8")
    if expected != actual:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=str(path),
                tofile="actual",
            )
        )
        raise AssertionError(f"output differs from golden file {path}:\n{diff}")


def as_yaml(*documents: Any) -> str:
    """Render wire dicts as the YAML stream golden files hold."""
    return dump_documents(documents)
