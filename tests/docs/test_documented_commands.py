"""Every ``$ modelplane ...`` command the README and the guides show runs, with the exit shown.

A newcomer copies these first; one that fails (a file they do not have, a
renamed flag) is the first thing they meet. Commands in ``console`` blocks
are run in-process from a scratch directory that holds the project's
``examples/``, so a command that writes (``--plot DIR``) writes there. The
expected exit status is 0 unless the line ends with ``# exits N``. Install
commands (``bash`` blocks) are covered by tests/unit/test_project.py.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from modelplane_adapters.cli.main import main
from tests.support import REPO_ROOT

DOCUMENTS = ("README.md", "docs/getting-started.md", "examples/README.md")
_CONSOLE = re.compile(r"```console\n(.*?)```", re.DOTALL)
_EXITS = re.compile(r"#\s*exits (\d+)")


def documented_commands() -> list[tuple[str, str, int]]:
    found = []
    for document in DOCUMENTS:
        text = (REPO_ROOT / document).read_text()
        for block in _CONSOLE.findall(text):
            for line in block.splitlines():
                if not line.startswith("$ modelplane "):
                    continue
                command = line[2:]
                exits = _EXITS.search(command)
                words = shlex.split(command, comments=True)
                found.append((document, shlex.join(words), int(exits[1]) if exits else 0))
    return found


COMMANDS = documented_commands()


def test_the_guides_show_commands() -> None:
    shown = {document for document, _, _ in COMMANDS}
    assert shown == set(DOCUMENTS)


@pytest.mark.parametrize(
    ("document", "command", "status"), COMMANDS, ids=[f"{d}: {c}" for d, c, _ in COMMANDS]
)
def test_a_documented_command_runs(
    document: str,
    command: str,
    status: int,
    *,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "examples").symlink_to(REPO_ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    code = main(shlex.split(command)[1:])
    _, err = capsys.readouterr()
    assert code == status, f"{document}: `{command}` exited {code}:\n{err}"
