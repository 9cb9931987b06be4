"""How every command reads manifests: files, directories (-R), -f, stdin, and located errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from modelplane_adapters.cli.main import main
from modelplane_adapters.cli.manifests import SourceDocument

ENDPOINT = """\
apiVersion: modelplane.ai/v1alpha1
kind: ModelEndpoint
metadata: {{name: {name}, namespace: ml-team}}
spec: {{url: "https://api.together.xyz/"}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def checked_objects(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["validate", "-o", "json", *args])
    report = json.loads(capsys.readouterr().out)
    return code, [f"{Path(o['file']).name}:{o['object']}" for o in report["objects"]]


def test_a_directory_is_every_manifest_file_in_it_in_name_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "b.yml", ENDPOINT.format(name="b"))
    write(tmp_path / "a.yaml", ENDPOINT.format(name="a"))
    write(tmp_path / "c.json", json.dumps({"apiVersion": "v1", "kind": "Namespace"}))
    write(tmp_path / "notes.txt", "not a manifest: skipped")
    write(tmp_path / "nested" / "d.yaml", ENDPOINT.format(name="d"))
    code, objects = checked_objects(capsys, str(tmp_path))
    assert code == 0
    assert objects == [
        "a.yaml:ModelEndpoint ml-team/a",
        "b.yml:ModelEndpoint ml-team/b",
        "c.json:Namespace <no name>",
    ]
    code, objects = checked_objects(capsys, "-R", "-f", str(tmp_path))
    assert objects[-1] == "d.yaml:ModelEndpoint ml-team/d"


def test_files_and_f_flags_combine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path / "a.yaml", ENDPOINT.format(name="a"))
    b = write(tmp_path / "b.yaml", ENDPOINT.format(name="b"))
    code, objects = checked_objects(capsys, str(a), "-f", str(b), "--filename", str(a))
    assert code == 0
    assert [o.split(":")[0] for o in objects] == ["a.yaml", "b.yaml", "a.yaml"]


def test_stdin_is_read_for_a_dash(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(ENDPOINT.format(name="piped")))
    code, objects = checked_objects(capsys, "-")
    assert (code, objects) == (0, ["-:ModelEndpoint ml-team/piped"])


def test_a_directory_without_manifests_is_unreadable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path / "deep" / "a.yaml", ENDPOINT.format(name="a"))
    for command in (["validate"], ["schedule"], ["cel", "match", "true"]):
        assert main([*command, str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert f"{tmp_path}: no .yaml, .yml, .json files in this directory" in err
        assert "-R also reads its subdirectories" in err


@pytest.mark.parametrize(
    ("text", "located"),
    [
        ("spec:\n  replicas: 1\n  replicas: 2\n", ":3:3: spec.replicas: duplicate key 'replicas'"),
        ("spec:\n  replicas: .nan\n", ":2:13: spec.replicas: .nan is not a number JSON can hold"),
        ("spec:\n  data: !!binary aGk=\n", ":2:9: spec.data: the tag !!binary is not allowed"),
        ("spec: [1,\n", ":2:1: YAML syntax error: while parsing a flow"),
    ],
)
def test_yaml_a_manifest_cannot_hold_is_unreadable_input_with_file_line_and_path(
    text: str, located: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "bad.yaml", text)
    for command in (["validate"], ["schedule"], ["cel", "match", "true"], ["render"]):
        assert main([*command, str(path)]) == 2, command
        err = capsys.readouterr().err
        assert f"{path}{located}" in err, (command, err)
        assert "Traceback" not in err


def test_huge_names_are_shortened_in_every_message() -> None:
    name = "n" * 100_000
    document = SourceDocument(
        source="x.yaml",
        line=1,
        data={"kind": "ModelDeployment", "metadata": {"name": name, "namespace": "ml-team"}},
    )
    described = document.describe()
    assert described.startswith("ModelDeployment ml-team/nnnn")
    assert described.endswith("... (100000 characters)")
    assert len(described) < 150
