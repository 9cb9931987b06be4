"""The installable package, generated from the code: ``modelplane package build OUTDIR``.

One source of truth: the XRDs and Compositions come from the API types
(:mod:`.xrd`, :mod:`.composition`), the version from ``modelplane_core``, and
every dependency with its version constraint from :data:`DEPENDENCIES`, the one
table to edit when a provider moves. The output tree::

    OUTDIR/
      README.md                       how to build, push and install (generated)
      configuration/                  the Configuration package root
        crossplane.yaml               meta.pkg.crossplane.io/v1 Configuration, dependsOn
        apis/<plural>/definition.yaml one XRD per kind
        apis/<plural>/composition.yaml one Pipeline Composition per kind
      function/                       the Function package root
        crossplane.yaml               meta.pkg.crossplane.io/v1beta1 Function
        Dockerfile                    the runtime image: `modelplane function serve`
      install/
        configuration.yaml            pkg.crossplane.io/v1 Configuration to kubectl apply
        functions.yaml                pkg.crossplane.io/v1 Function for `crossplane render`
                                      against a local `modelplane function serve --insecure`

Installing the Configuration makes Crossplane install every dependency,
including the function, whose installed name is derived from its package path
(:func:`installed_name`); the Compositions reference it by that name.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal

import attrs

from modelplane_adapters.crossplane.composition import composition_for
from modelplane_adapters.crossplane.xrd import xrd_for
from modelplane_core import __version__, api
from modelplane_core.api.yamlio import dump_documents

CROSSPLANE_VERSION: Final = ">=v2.3.0"  # the XRD scale subresource arrived in v2.3
DEFAULT_REGISTRY: Final = "xpkg.upbound.io/modelplane"
CONFIGURATION_PACKAGE: Final = "modelplane"
FUNCTION_PACKAGE: Final = "function-modelplane"
DEVELOPMENT_TARGET: Final = "localhost:9443"
PKG_API_VERSION: Final = "pkg.crossplane.io/v1"
LICENSE: Final = "Apache-2.0"
MAINTAINER: Final = "Modelplane in Python authors"


@attrs.frozen
class Dependency:
    """A package the Configuration depends on, and why."""

    kind: Literal["Provider", "Function"]
    package: str
    version: str
    why: str


# The one table of dependencies and their version constraints. The function itself
# is appended by `dependencies()`, versioned with this build.
PROVIDERS: Final[tuple[Dependency, ...]] = (
    Dependency(
        "Provider",
        "xpkg.crossplane.io/crossplane-contrib/provider-kubernetes",
        ">=v1.2.1",
        "every object on a workload cluster is composed as a namespaced Object",
    ),
    Dependency(
        "Provider",
        "xpkg.crossplane.io/crossplane-contrib/provider-helm",
        ">=v1.4.0",
        "ServingStack and InferenceGateway install Helm charts as namespaced Releases",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-gcp-container",
        ">=v2.5.0",
        "GKECluster: the GKE cluster and its node pools",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-gcp-compute",
        ">=v2.5.0",
        "GKECluster: the network and subnetwork",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-gcp-cloudplatform",
        ">=v2.5.0",
        "GKECluster: the workload service account and its key",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-aws-eks",
        ">=v2.5.0",
        "EKSCluster: the EKS cluster, node groups and access entries",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-aws-ec2",
        ">=v2.5.0",
        "EKSCluster: the VPC, subnets and launch templates",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-aws-iam",
        ">=v2.5.0",
        "EKSCluster: the cluster and node roles",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-aws-efs",
        ">=v2.5.0",
        "EKSCluster: the shared file system ModelCache stages weights on",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-azure-containerservice",
        ">=v2.5.0",
        "AKSCluster: the AKS cluster and its node pools (the Azure family provider it "
        "installs serves the resource group)",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-azure-network",
        ">=v2.5.0",
        "AKSCluster: the virtual network and node subnet",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-vultr",
        ">=v1.0.0",
        "VultrCluster: the VKE cluster and its node pools",
    ),
    Dependency(
        "Provider",
        "xpkg.upbound.io/upbound/provider-nebius",
        ">=v1.0.1",
        "NebiusCluster: the mk8s cluster, its node groups, network and cache filesystem",
    ),
)


def function_package(registry: str = DEFAULT_REGISTRY) -> str:
    return f"{registry.rstrip('/')}/{FUNCTION_PACKAGE}"


def configuration_package(registry: str = DEFAULT_REGISTRY) -> str:
    return f"{registry.rstrip('/')}/{CONFIGURATION_PACKAGE}"


def dependencies(registry: str = DEFAULT_REGISTRY, version: str = __version__) -> list[Dependency]:
    """The providers, then the function at this build's version or newer."""
    function = Dependency(
        "Function",
        function_package(registry),
        f">=v{version.lstrip('v')}",
        "composes every Modelplane kind",
    )
    return [*PROVIDERS, function]


def installed_name(package: str) -> str:
    """The name Crossplane gives a package it installs as a dependency.

    The repository path without the registry host, ``/`` replaced by ``-``:
    ``xpkg.upbound.io/modelplane/function-modelplane`` -> ``modelplane-function-modelplane``.
    """
    head, slash, last = package.split("@", 1)[0].rpartition("/")
    repository = head + slash + last.split(":", 1)[0]  # without the tag
    host, _, path = repository.partition("/")
    registry = path and ("." in host or ":" in host or host == "localhost")
    return (path if registry else repository).replace("/", "-").lower()


@attrs.frozen
class PackageFile:
    """One generated file: its path under OUTDIR and its text."""

    path: str
    text: str


def build_package(
    *, registry: str = DEFAULT_REGISTRY, version: str = __version__
) -> list[PackageFile]:
    """Every file of the package tree (see module doc), in a stable order."""
    function_name = installed_name(function_package(registry))
    files = [
        _yaml("configuration/crossplane.yaml", [configuration_meta(registry, version)]),
    ]
    for cls in sorted(api.KINDS, key=lambda c: c.kind_info.plural):
        base = f"configuration/apis/{cls.kind_info.plural}"
        files.append(_yaml(f"{base}/definition.yaml", [xrd_for(cls)]))
        files.append(_yaml(f"{base}/composition.yaml", [composition_for(cls, function_name)]))
    files += [
        _yaml("function/crossplane.yaml", [function_meta()]),
        PackageFile("function/Dockerfile", dockerfile()),
        _yaml("install/configuration.yaml", [configuration_install(registry, version)]),
        _yaml("install/functions.yaml", [function_development(registry, version)]),
        PackageFile("README.md", readme(registry, version)),
    ]
    return files


def write_package(
    outdir: Path, *, registry: str = DEFAULT_REGISTRY, version: str = __version__
) -> list[Path]:
    """Write the package tree under ``outdir``; returns the files written."""
    written = []
    for file in build_package(registry=registry, version=version):
        path = outdir / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.text, encoding="utf-8")
        written.append(path)
    return written


def configuration_meta(registry: str, version: str) -> dict[str, Any]:
    return {
        "apiVersion": "meta.pkg.crossplane.io/v1",
        "kind": "Configuration",
        "metadata": {
            "name": CONFIGURATION_PACKAGE,
            "annotations": _annotations(
                "Modelplane: place AI model replicas across a fleet of Kubernetes GPU clusters "
                "and compose the objects that serve, route to and cache them."
            ),
        },
        "spec": {
            "crossplane": {"version": CROSSPLANE_VERSION},
            "dependsOn": [
                {
                    "apiVersion": PKG_API_VERSION,
                    "kind": dependency.kind,
                    "package": dependency.package,
                    "version": dependency.version,
                }
                for dependency in dependencies(registry, version)
            ],
        },
    }


def function_meta() -> dict[str, Any]:
    return {
        "apiVersion": "meta.pkg.crossplane.io/v1beta1",
        "kind": "Function",
        "metadata": {
            "name": FUNCTION_PACKAGE,
            "annotations": _annotations(
                "The Modelplane composition function: one function for every Modelplane kind, "
                "dispatching on the composite's apiVersion and kind."
            ),
        },
        "spec": {"crossplane": {"version": CROSSPLANE_VERSION}},
    }


def configuration_install(registry: str, version: str) -> dict[str, Any]:
    return {
        "apiVersion": PKG_API_VERSION,
        "kind": "Configuration",
        "metadata": {"name": CONFIGURATION_PACKAGE},
        "spec": {"package": f"{configuration_package(registry)}:v{version.lstrip('v')}"},
    }


def function_development(registry: str, version: str) -> dict[str, Any]:
    """The Function as ``crossplane render`` wants it: served locally, not pulled."""
    package = function_package(registry)
    return {
        "apiVersion": PKG_API_VERSION,
        "kind": "Function",
        "metadata": {
            "name": installed_name(package),
            "annotations": {
                "render.crossplane.io/runtime": "Development",
                "render.crossplane.io/runtime-development-target": DEVELOPMENT_TARGET,
            },
        },
        "spec": {"package": f"{package}:v{version.lstrip('v')}"},
    }


def _annotations(description: str) -> dict[str, str]:
    return {
        "meta.crossplane.io/maintainer": MAINTAINER,
        "meta.crossplane.io/license": LICENSE,
        "meta.crossplane.io/description": description,
        "meta.crossplane.io/readme": (
            "Install the Configuration on a Crossplane v2.3+ control cluster; it brings the "
            "Modelplane APIs, their Compositions, the composition function and the providers "
            "they need."
        ),
    }


def dockerfile() -> str:
    return """\
# Generated by `modelplane package build`; do not edit.
# The Modelplane composition function image. Build it from the repository root:
#   docker build -f OUTDIR/function/Dockerfile -t <registry>/function-modelplane-runtime .
# Crossplane runs it with its mTLS certificates mounted and TLS_SERVER_CERTS_DIR set;
# the function listens on 0.0.0.0:9443.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir '.[crossplane]'

FROM python:${PYTHON_VERSION}-slim
COPY --from=build /venv /venv
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1
USER 65532:65532
EXPOSE 9443
ENTRYPOINT ["modelplane", "function", "serve"]
"""


def readme(registry: str, version: str) -> str:
    tag = f"v{version.lstrip('v')}"
    function = function_package(registry)
    configuration = configuration_package(registry)
    rows = "\n".join(
        f"| {d.kind} | `{d.package}` | `{d.version}` | {d.why} |"
        for d in dependencies(registry, version)
    )
    return f"""\
# Modelplane Crossplane package {tag}

Generated by `modelplane package build`; do not edit. Regenerate instead.

Build and push the function (image, then package) and the Configuration,
from the repository root:

```bash
docker build -f OUT/function/Dockerfile -t {function}-runtime:{tag} .
crossplane xpkg build --package-root=OUT/function \\
  --embed-runtime-image={function}-runtime:{tag} -o function.xpkg
crossplane xpkg push -f function.xpkg {function}:{tag}
crossplane xpkg build --package-root=OUT/configuration -o configuration.xpkg
crossplane xpkg push -f configuration.xpkg {configuration}:{tag}
```

Install on a Crossplane {CROSSPLANE_VERSION.lstrip(">=")}+ control cluster:

```bash
kubectl apply -f OUT/install/configuration.yaml
```

Dependencies (Crossplane installs them with the Configuration):

| Kind | Package | Version | Why |
|---|---|---|---|
{rows}
"""


def _yaml(path: str, documents: Iterable[dict[str, Any]]) -> PackageFile:
    header = "# Generated by `modelplane package build`; do not edit.\n"
    return PackageFile(path, header + dump_documents(documents))
