"""``modelplane completion``: the generated script run by a real bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from modelplane_adapters.cli.main import main

BASH = shutil.which("bash")


@pytest.fixture(scope="module")
def script() -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["completion", "bash"]) == 0
    return out.getvalue()


def complete(script: str, *words: str, cwd: str | None = None) -> list[str]:
    """What bash offers for ``modelplane WORDS...`` (the last word is being typed)."""
    assert BASH is not None
    words_array = " ".join(f"'{w}'" for w in ("modelplane", *words))
    program = (
        f"{script}\nCOMP_WORDS=({words_array}); COMP_CWORD={len(words)}; _modelplane; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        [BASH, "--norc", "-c", program], capture_output=True, text=True, check=True, cwd=cwd
    )
    return sorted(line for line in result.stdout.splitlines() if line)


pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def test_subcommands_options_and_choices_are_completed(script: str) -> None:
    assert complete(script, "") == sorted(
        [
            "cel",
            "completion",
            "controller",
            "convert",
            "function",
            "package",
            "render",
            "schedule",
            "simulate",
            "validate",
            "version",
        ]
    )
    assert complete(script, "sch") == ["schedule"]
    assert complete(script, "cel", "") == ["check", "match"]
    assert complete(script, "cel", "match", "--de") == ["--demo"]
    assert complete(script, "schedule", "-o", "") == ["json", "table", "yaml"]
    assert complete(script, "schedule", "--output", "j") == ["json"]
    assert complete(script, "function", "serve", "--ins") == ["--insecure"]
    assert complete(script, "completion", "") == ["bash", "zsh"]  # a positional's choices


def test_files_are_completed_for_file_arguments_and_valued_options(
    script: str, tmp_path: pytest.TempPathFactory
) -> None:
    (tmp_path / "fleet.yaml").write_text("")  # type: ignore[operator]
    assert complete(script, "validate", "fl", cwd=str(tmp_path)) == ["fleet.yaml"]
    assert complete(script, "render", "x.yaml", "--required", "f", cwd=str(tmp_path)) == [
        "fleet.yaml"
    ]


def test_zsh_gets_the_bash_script_through_bashcompinit(
    script: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["completion", "zsh"]) == 0
    zsh = capsys.readouterr().out
    assert zsh.startswith("autoload -U +X compinit && compinit\n")
    assert "bashcompinit" in zsh
    assert zsh.endswith(script)
