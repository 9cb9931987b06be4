"""The generated package: valid against Crossplane's CRDs, true to the API types, installable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from modelplane_adapters.cli.main import main
from modelplane_adapters.crossplane.package import (
    CROSSPLANE_VERSION,
    DEFAULT_REGISTRY,
    PackageFile,
    build_package,
    dependencies,
    function_package,
    installed_name,
)
from modelplane_adapters.crossplane.xrd import xrd_for
from modelplane_core import __version__, api
from tests.adapters.crossplane.structural import rule_failures, schema_at, xrd_schema_problems
from tests.k8s_schemas import validate_manifest
from tests.support import REPO_ROOT, SHARED, shared_path

KINDS = sorted(api.KINDS, key=lambda c: c.kind_info.kind)
SEMVER_CONSTRAINT = re.compile(r"^(>=|<=|>|<|=|~|\^)?v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")

# The reference's XRDs (../shared/reference/xrds) agree with ours on every
# name, scope, scale subresource and printer column except where they are wrong:
# ModelCache's SOURCE column points at .spec.source.huggingFace.repo, but
# spec.source is a string, so the column renders empty. Ours reads the repo.
KNOWN_REFERENCE_FIXES = {("modelcaches", "SOURCE")}


@pytest.fixture(scope="module")
def package() -> dict[str, Any]:
    """Every generated YAML file's documents by path (and the Dockerfile and README text)."""
    files: dict[str, Any] = {}
    for file in build_package():
        if file.path.endswith(".yaml"):
            files[file.path] = list(yaml.safe_load_all(file.text))
        else:
            files[file.path] = file.text
    return files


def documents(package: Mapping[str, Any], suffix: str) -> list[dict[str, Any]]:
    return [doc for path, docs in package.items() if path.endswith(suffix) for doc in docs]


def test_the_tree_has_one_xrd_and_one_composition_per_kind(package: dict[str, Any]) -> None:
    for cls in KINDS:
        base = f"configuration/apis/{cls.kind_info.plural}"
        assert f"{base}/definition.yaml" in package
        assert f"{base}/composition.yaml" in package
    assert {
        "configuration/crossplane.yaml",
        "function/crossplane.yaml",
        "function/Dockerfile",
        "install/configuration.yaml",
        "install/functions.yaml",
        "README.md",
    } <= set(package)
    assert len(package) == 2 * len(KINDS) + 6


@pytest.mark.parametrize(
    "suffix",
    ["definition.yaml", "composition.yaml", "install/configuration.yaml", "install/functions.yaml"],
)
def test_generated_objects_validate_against_the_crossplane_crds(
    package: dict[str, Any], suffix: str
) -> None:
    shared_path("schemas", "crossplane")
    found = documents(package, suffix)
    assert found
    for doc in found:
        assert validate_manifest(doc) == [], doc["metadata"]["name"]


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.kind_info.kind)
def test_each_xrd_is_the_kind_as_the_api_declares_it(cls: type[api.Resource]) -> None:
    info = cls.kind_info
    xrd = xrd_for(cls)
    assert xrd["apiVersion"] == "apiextensions.crossplane.io/v2"
    spec = xrd["spec"]
    assert xrd["metadata"]["name"] == f"{info.plural}.{info.group}"
    assert spec["group"] == info.group
    assert spec["scope"] == info.scope
    assert spec["names"]["kind"] == info.kind
    assert spec["names"]["plural"] == info.plural
    assert spec["names"]["shortNames"] == list(info.short_names)
    assert spec["names"]["categories"] == ["crossplane", "modelplane"]
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["referenceable"]) == (
        info.version,
        True,
        True,
    )
    assert version["schema"]["openAPIV3Schema"] == api.openapi_schema(cls)
    assert [(c["name"], c["jsonPath"]) for c in version.get("additionalPrinterColumns", [])] == [
        (c.name, c.json_path) for c in info.printer_columns
    ]
    if info.kind == "ModelDeployment":
        assert version["subresources"] == {
            "scale": {
                "specReplicasPath": ".spec.replicas",
                "statusReplicasPath": ".status.replicas.total",
            }
        }
    else:
        assert "subresources" not in version
    assert spec["defaultCompositionRef"] == {"name": xrd["metadata"]["name"]}


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.kind_info.kind)
def test_each_xrd_schema_is_one_the_api_server_and_crossplane_accept(
    cls: type[api.Resource],
) -> None:
    """The XRD CRD cannot check the embedded schema (it preserves unknown fields); we do."""
    (version,) = xrd_for(cls)["spec"]["versions"]
    assert xrd_schema_problems(version["schema"]["openAPIV3Schema"]) == []


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.kind_info.kind)
def test_scale_and_printer_column_paths_point_at_declared_fields(cls: type[api.Resource]) -> None:
    (version,) = xrd_for(cls)["spec"]["versions"]
    schema = version["schema"]["openAPIV3Schema"]
    for column in version.get("additionalPrinterColumns", []):
        assert column["type"] in ("string", "integer", "number", "boolean", "date"), column
        assert schema_at(schema, column["jsonPath"]) is not None, column
    scale = version.get("subresources", {}).get("scale")
    if scale is not None:
        assert scale["specReplicasPath"].startswith(".spec.")
        assert scale["statusReplicasPath"].startswith(".status.")
        for path in (scale["specReplicasPath"], scale["statusReplicasPath"]):
            target = schema_at(schema, path)
            assert target is not None, path
            assert target["type"] == "integer", path


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "object", "properties": {"spec": {"properties": {}}}}, "spec.type: must be set"),
        (
            {
                "type": "object",
                "properties": {"spec": {"type": "object"}, "extra": {"type": "string"}},
            },
            "properties.extra: Crossplane keeps only spec and status",
        ),
        (
            {
                "type": "object",
                "x-kubernetes-validations": [{"rule": "true"}],
                "properties": {"spec": {"type": "object"}},
            },
            "Crossplane drops root-level x-kubernetes-validations",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {"crossplane": {"type": "object"}},
                    }
                },
            },
            "spec.properties.crossplane: owned by Crossplane",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "spec": {"type": "object", "additionalProperties": False, "properties": {}}
                },
            },
            "additionalProperties: must not be false",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                    }
                },
            },
            "map key name must be required or defaulted",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "spec": {"type": "integer", "minimum": 1, "default": 0, "enum": [1, "two"]}
                },
            },
            "spec.default: 0 is less than the minimum of 1",
        ),
        (
            {"type": "object", "properties": {"spec": {"type": "integer", "enum": [1, "two"]}}},
            "spec.enum[1]: 'two' is not of type 'integer'",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}},
                        "x-kubernetes-validations": [{"rule": "has(self.b) && (", "message": "m"}],
                    }
                },
            },
            "does not parse as CEL",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}},
                        "x-kubernetes-validations": [{"rule": "has(self.b)", "fieldPath": ".c"}],
                    }
                },
            },
            "self.b is not a declared field",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}},
                        "x-kubernetes-validations": [{"rule": "true", "fieldPath": ".c"}],
                    }
                },
            },
            "fieldPath: .c is not a field of this node",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {"l": {"type": "array", "items": {"type": "string"}}},
                        "x-kubernetes-validations": [{"rule": "self.l.all(x, x != '')"}],
                    }
                },
            },
            "iterates self.l, which has no maxItems",
        ),
    ],
    ids=[
        "untyped",
        "extra-root-field",
        "root-rules",
        "spec-crossplane",
        "additional-false",
        "map-key-optional",
        "bad-default",
        "enum-type",
        "cel-syntax",
        "cel-undeclared",
        "field-path",
        "unbounded-macro",
    ],
)
def test_the_schema_checker_catches_what_the_api_server_refuses(
    schema: dict[str, Any], problem: str
) -> None:
    found = xrd_schema_problems(schema)
    assert any(problem in p for p in found), found


def test_xrds_agree_with_the_reference_implementation(package: dict[str, Any]) -> None:
    root = shared_path("reference", "xrds")
    ours = {doc["spec"]["names"]["plural"]: doc for doc in documents(package, "definition.yaml")}
    for path in sorted(root.glob("*.yaml")):
        reference = yaml.safe_load(path.read_text())
        plural = reference["spec"]["names"]["plural"]
        mine = ours[plural]
        assert mine["apiVersion"] == reference["apiVersion"]
        for key in ("group", "scope"):
            assert mine["spec"][key] == reference["spec"][key], (plural, key)
        for key in ("kind", "shortNames", "categories"):
            assert mine["spec"]["names"].get(key) == reference["spec"]["names"].get(key), (
                plural,
                key,
            )
        (ref_version,) = reference["spec"]["versions"]
        (my_version,) = mine["spec"]["versions"]
        assert my_version.get("subresources") == ref_version.get("subresources"), plural
        ref_columns = {c["name"]: c for c in ref_version.get("additionalPrinterColumns", [])}
        my_columns = {c["name"]: c for c in my_version.get("additionalPrinterColumns", [])}
        assert list(my_columns) == list(ref_columns), plural
        for name, column in my_columns.items():
            if (plural, name) not in KNOWN_REFERENCE_FIXES:
                assert column == ref_columns[name], (plural, name)


def test_each_composition_is_one_pipeline_step_calling_the_function(
    package: dict[str, Any],
) -> None:
    xrds = {doc["metadata"]["name"]: doc for doc in documents(package, "definition.yaml")}
    function_name = installed_name(function_package())
    assert function_name == "modelplane-function-modelplane"
    for composition in documents(package, "composition.yaml"):
        xrd = xrds[composition["metadata"]["name"]]
        spec = composition["spec"]
        assert spec["mode"] == "Pipeline"
        assert spec["compositeTypeRef"] == {
            "apiVersion": f"{xrd['spec']['group']}/{xrd['spec']['versions'][0]['name']}",
            "kind": xrd["spec"]["names"]["kind"],
        }
        assert spec["pipeline"] == [{"step": "compose", "functionRef": {"name": function_name}}]


# The meta.pkg.crossplane.io types are package metadata, not CRDs (no schema ships in
# ../shared); this is their shape as Crossplane's apis/pkg/meta types define it.
DEPENDENCY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "package", "version"],
    "properties": {
        "apiVersion": {"const": "pkg.crossplane.io/v1"},
        "kind": {"enum": ["Provider", "Function", "Configuration"]},
        "package": {"type": "string", "pattern": r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+$"},
        "version": {"type": "string", "pattern": SEMVER_CONSTRAINT.pattern},
    },
}
META_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "crossplane": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["version"],
                    "properties": {"version": {"type": "string"}},
                },
                "dependsOn": {"type": "array", "items": DEPENDENCY_SCHEMA},
            },
        },
    },
}


def test_the_configuration_metadata_declares_every_dependency(package: dict[str, Any]) -> None:
    (meta,) = package["configuration/crossplane.yaml"]
    jsonschema.validate(meta, META_SCHEMA)
    assert (meta["apiVersion"], meta["kind"]) == ("meta.pkg.crossplane.io/v1", "Configuration")
    assert meta["spec"]["crossplane"] == {"version": CROSSPLANE_VERSION}
    packages = {d["package"].rsplit("/", 1)[-1]: d for d in meta["spec"]["dependsOn"]}
    for required in (
        "provider-kubernetes",
        "provider-helm",
        "provider-gcp-container",
        "provider-aws-eks",
        "provider-nebius",
        "provider-azure-containerservice",
        "provider-azure-network",
        "provider-vultr",
        "function-modelplane",
    ):
        assert required in packages, required
    assert packages["function-modelplane"]["kind"] == "Function"
    assert packages["function-modelplane"]["version"] == f">=v{__version__}"
    assert [d["package"] for d in meta["spec"]["dependsOn"]] == [d.package for d in dependencies()]


def test_the_function_metadata_and_install_objects_agree(package: dict[str, Any]) -> None:
    (meta,) = package["function/crossplane.yaml"]
    jsonschema.validate(meta, META_SCHEMA)
    assert (meta["apiVersion"], meta["kind"]) == ("meta.pkg.crossplane.io/v1beta1", "Function")
    assert meta["metadata"]["name"] == "function-modelplane"
    (development,) = package["install/functions.yaml"]
    assert development["metadata"]["name"] == installed_name(function_package())
    assert (
        development["spec"]["package"] == f"{DEFAULT_REGISTRY}/function-modelplane:v{__version__}"
    )
    assert development["metadata"]["annotations"]["render.crossplane.io/runtime"] == "Development"
    (install,) = package["install/configuration.yaml"]
    assert install["spec"]["package"] == f"{DEFAULT_REGISTRY}/modelplane:v{__version__}"


def test_the_dockerfile_builds_an_image_that_serves_the_function(package: dict[str, Any]) -> None:
    dockerfile: str = package["function/Dockerfile"]
    assert 'ENTRYPOINT ["modelplane", "function", "serve"]' in dockerfile
    assert "'.[crossplane]'" in dockerfile
    assert "EXPOSE 9443" in dockerfile
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (REPO_ROOT / source).exists(), f"the Dockerfile copies missing {source}"


def test_installed_names_follow_crossplane() -> None:
    assert installed_name(
        "xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:v0.8.2"
    ) == ("crossplane-contrib-function-patch-and-transform")
    assert (
        installed_name("ghcr.io/acme/platform/function-modelplane")
        == "acme-platform-function-modelplane"
    )
    assert installed_name("localhost:5000/fn") == "fn"


def _apply_defaults(value: Any, schema: Mapping[str, Any]) -> Any:
    """Structural defaulting as the API server does it, before validation."""
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name, sub in properties.items():
            if name not in value and "default" in sub:
                value[name] = yaml.safe_load(yaml.safe_dump(sub["default"]))
        for name, item in value.items():
            if name in properties:
                _apply_defaults(item, properties[name])
            elif isinstance(schema.get("additionalProperties"), Mapping):
                _apply_defaults(item, schema["additionalProperties"])
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for item in value:
            _apply_defaults(item, schema["items"])
    return value


def _strict(schema: Any) -> Any:
    """Unknown fields are errors (the API server would prune them silently)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: (v if k in ("default", "enum", "x-kubernetes-validations") else _strict(v))
        for k, v in schema.items()
    }
    if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def example_objects() -> list[tuple[str, dict[str, Any]]]:
    root = SHARED / "examples"
    found = []
    for path in sorted(root.rglob("*.yaml")) if root.exists() else []:
        for index, doc in enumerate(d for d in yaml.safe_load_all(path.read_text()) if d):
            if api.kind_class(str(doc.get("apiVersion")), str(doc.get("kind"))) is not None:
                found.append((f"{path.relative_to(root)}#{index}", doc))
    return found


@pytest.mark.parametrize(
    ("name", "manifest"),
    example_objects() or [("none", {})],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_example_validates_against_its_generated_xrd(
    name: str, manifest: dict[str, Any]
) -> None:
    shared_path("examples")
    cls = api.kind_class(manifest["apiVersion"], manifest["kind"])
    assert cls is not None
    schema = xrd_for(cls)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    body = _apply_defaults(
        {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind", "metadata")}, schema
    )
    errors = [
        f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in jsonschema.Draft7Validator(_strict(schema)).iter_errors(body)
    ]
    assert errors == [], name
    # The XRD's CEL rules too, evaluated on every node as the API server does.
    assert rule_failures(body, schema) == [], name


def test_the_xrd_rules_refuse_what_they_describe() -> None:
    """The rule evaluation above can fail: an engine with two Leaders breaks its rule."""
    manifest = yaml.safe_load(
        (shared_path("examples", "concepts") / "model-deployment-multinode.yaml").read_text()
    )
    schema = xrd_for(api.ModelDeployment)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    body = _apply_defaults({"spec": manifest["spec"]}, schema)
    assert rule_failures(body, schema) == []
    members = body["spec"]["engines"][0]["members"]
    for member in members:
        member["role"] = "Leader"
        member.pop("worker", None)
    assert rule_failures(body, schema) == [
        "spec.engines[0]: an engine must be either a single Standalone member or one Leader "
        "and one Worker"
    ]


def test_package_build_writes_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["package", "build", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    from modelplane_adapters.controller.manifests import controller_files

    expected: list[PackageFile] = build_package()
    expected += controller_files(DEFAULT_REGISTRY, __version__)  # the controller flavour
    assert sorted(printed) == sorted(str(out / f.path) for f in expected)
    for file in expected:
        assert (out / file.path).read_text() == file.text
    # Building again gives the same bytes: the package is a pure function of the code.
    assert main(["package", "build", str(out)]) == 0
    assert all((out / f.path).read_text() == f.text for f in expected)


def test_package_build_follows_the_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (
        main(["package", "build", str(out), "--registry", "ghcr.io/acme", "--version", "1.2.3"])
        == 0
    )
    capsys.readouterr()
    meta = yaml.safe_load((out / "configuration/crossplane.yaml").read_text())
    function = meta["spec"]["dependsOn"][-1]
    assert function == {
        "apiVersion": "pkg.crossplane.io/v1",
        "kind": "Function",
        "package": "ghcr.io/acme/function-modelplane",
        "version": ">=v1.2.3",
    }
    composition = yaml.safe_load(
        (out / "configuration/apis/modeldeployments/composition.yaml").read_text()
    )
    assert composition["spec"]["pipeline"][0]["functionRef"]["name"] == "acme-function-modelplane"


def test_package_without_a_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package"]) == 2
    assert main(["function"]) == 2
    capsys.readouterr()
