"""Project-level contracts: CI runs the README's test command; the core stays framework-free."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import REPO_ROOT

ADAPTER_LIBRARIES = {"grpc", "kubernetes", "crossplane", "google", "modelplane_adapters"}


def readme_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(python3 -m venv[^\n]*)\n```", text)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = readme_commands()
    assert len(commands) == 2, "the README gives the main-job command and the test command"
    test_command = next(c for c in commands if "pytest" in c)
    ci_script = (REPO_ROOT / ".ci" / "run").read_text()
    assert test_command in ci_script.splitlines()


def test_readme_main_job_command_runs() -> None:
    main_job = next(c for c in readme_commands() if "pytest" not in c)
    # The install part is what CI already did; run the command it ends with.
    command = main_job.rsplit("&& ", 1)[1]
    assert command.startswith("modelplane ")
    result = subprocess.run(
        [sys.executable, "-m", "modelplane_adapters.cli.main", *command.split()[1:]],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_core_imports_no_adapter_side_library() -> None:
    offenders = []
    for path in sorted((REPO_ROOT / "src" / "modelplane_core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [
                f"{path.relative_to(REPO_ROOT)}: {n}"
                for n in names
                if n.split(".")[0] in ADAPTER_LIBRARIES
            ]
    assert offenders == []


def test_importing_the_core_loads_no_adapter_library() -> None:
    code = (
        "import sys, modelplane_core.api, modelplane_core.compose\n"
        f"libs = {sorted(ADAPTER_LIBRARIES)!r}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in libs)\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path.cwd()
    )
    assert result.stdout.strip() == ""


def test_ci_also_runs_the_suite_as_a_clone_without_shared() -> None:
    lines = (REPO_ROOT / ".ci" / "run").read_text().splitlines()
    assert any(
        line.startswith("MODELPLANE_SHARED=/nonexistent") and " pytest -q" in line for line in lines
    )


def test_the_suite_collects_without_shared(tmp_path: Path) -> None:
    """A fresh clone has no ../shared: collection must still succeed (tests skip, not error)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        env={**os.environ, "MODELPLANE_SHARED": str(tmp_path / "no-shared-here")},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "error" not in result.stdout.splitlines()[-1]
