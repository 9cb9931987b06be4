"""Golden tests for what ``modelplane validate`` tells a person about a bad manifest.

Each file in ``tests/golden/inputs/validation/`` holds manifests with the
mistakes people make (written for these tests, one theme per file). The
golden file records the exit code and every ``FILE: Kind ns/name: path:
message`` line, so a change to any message is a reviewed change. Every
message names the field path and says what is allowed there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelplane_adapters.cli.main import main
from tests.golden_support import as_yaml, assert_golden

INPUTS = Path(__file__).resolve().parent / "inputs" / "validation"
CASES = sorted(p.name for p in INPUTS.glob("*.yaml"))


@pytest.mark.parametrize("name", CASES)
def test_validation_messages(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(INPUTS)  # so the FILE column is the bare file name
    code = main(["validate", name])
    out, err = capsys.readouterr()
    problems = out.splitlines()
    assert code == 1
    assert problems, f"{name} is meant to hold mistakes"
    assert all(line.startswith(f"{name}: ") for line in problems)
    # The output verbatim, as a literal block: one problem per line, exactly as printed.
    assert_golden(
        f"validation/{Path(name).stem}", as_yaml({"exit": code, "stderr": err, "stdout": out})
    )


def test_every_input_has_a_golden_file() -> None:
    expected = Path(__file__).resolve().parent / "expected" / "validation"
    assert sorted(p.stem for p in expected.glob("*.yaml")) == sorted(Path(c).stem for c in CASES)
