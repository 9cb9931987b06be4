"""A command whose optional dependency is not installed says which extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import REPO_ROOT

# Runs the CLI with one module made unimportable, as on a machine without the extra.
PROGRAM = """
import sys
sys.modules[{module!r}] = None  # `import {module}` now raises ModuleNotFoundError
from modelplane_adapters.cli.main import main
sys.exit(main({argv!r}))
"""


def run_without(module: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM.format(module=module, argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO_ROOT,
    )


@pytest.mark.parametrize(
    ("module", "argv", "extra"),
    [
        ("crossplane", ["render", "--demo"], "crossplane"),
        ("grpc", ["function", "serve", "--insecure"], "crossplane"),
    ],
)
def test_a_missing_extra_is_named_with_the_install_command(
    module: str, argv: list[str], extra: str
) -> None:
    result = run_without(module, argv)
    assert result.returncode == 2, result.stderr
    assert f"this command needs the '{extra}' extra" in result.stderr
    assert f"pip install 'modelplane[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_without_optional_dependencies_still_run() -> None:
    result = run_without("crossplane", ["validate", "--demo"])
    assert result.returncode == 0, result.stderr


def test_other_missing_modules_are_not_blamed_on_an_extra() -> None:
    result = run_without("modelplane_core.simulation", ["schedule", "--demo"])
    assert result.returncode == 1
    assert "ModuleNotFoundError" in result.stderr
    assert "extra" not in result.stderr
