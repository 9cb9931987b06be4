"""A kubeconfig that carries its own credentials, for a cluster whose provider gives none.

A Nebius mk8s kubeconfig names the endpoint and CA only: Nebius authenticates
every client through its IAM, with short-lived tokens minted from a service
account key. provider-helm (v1.4.0) can layer that identity on a kubeconfig;
provider-kubernetes v1.2.1, which every workload object goes through, cannot.
So access is bootstrapped once, with the tools that can:

1. a provider-helm ProviderConfig reaches the new cluster with the Nebius
   identity of the provider config that provisions it;
2. through it, a release of plain manifests creates a ServiceAccount bound to
   ``cluster-admin`` and a long-lived token Secret for it; the release copies
   the token into its connection Secret on the control cluster;
3. the composer, which sees the connection details of what it composed (the
   cluster's kubeconfig, the release's token), writes a kubeconfig Secret
   with the endpoint, the CA and the token: a credential provider-kubernetes,
   provider-helm and every consumer can use as it is, like the kubeconfigs of
   the other clouds.

This is Crossplane's own pattern for aggregating connection details (compose
a Secret from composed resources' details). Deleting the token Secret on the
cluster, or the release, revokes the access; the next pass re-creates it.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final

import attrs
import yaml

from modelplane_core.api.documents import Unstructured
from modelplane_core.api.infrastructure import CloudCredentials
from modelplane_core.compose.composition import Observed, Requirement
from modelplane_core.compose.platform.chart_versions import helm_chart
from modelplane_core.compose.platform.provider_configs import (
    HELM_API_VERSION,
    Identity,
    SecretKey,
    kubeconfig_provider_config,
)
from modelplane_core.compose.platform.provider_helm import ORPHAN_ON_DELETE, release

NEBIUS_API_VERSION: Final = "nebius.m.upbound.io/v1beta1"
IDENTITY_TYPE: Final = "NebiusServiceAccountCredentials"
CREDENTIALS_KEY: Final = "nebius-credentials"
ACCESS_NAMESPACE: Final = "kube-system"
SERVICE_ACCOUNT: Final = "modelplane-admin"
TOKEN_SECRET: Final = "modelplane-admin-token"
TOKEN_KEY: Final = "token"
KUBECONFIG_KEY: Final = "kubeconfig"
USER: Final = "modelplane-admin"
# libyaml's safe loader and dumper when PyYAML was built with it: every pass reads one.
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Final = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def credentials_requirement(credentials: CloudCredentials | None, namespace: str) -> Requirement:
    """The Nebius provider config the cluster is built with: its key Secret is the identity."""
    ref = credentials or CloudCredentials()
    return Requirement(
        key=CREDENTIALS_KEY,
        api_version=NEBIUS_API_VERSION,
        kind=ref.type,
        match_name=ref.name,
        namespace=namespace if ref.type == "ProviderConfig" else None,
    )


@attrs.frozen(kw_only=True)
class Credentials:
    """Where the Nebius service account key is, or why it is not known this pass."""

    secret: SecretKey | None = None
    problem: str | None = None
    waiting: bool = False


def credentials_secret(
    observed: Observed[Any], requirement: Requirement, namespace: str
) -> Credentials:
    """The key Secret of the provider config ``requirement`` fetched.

    A ClusterProviderConfig names the Secret's namespace; a namespaced
    ProviderConfig's Secret is in its own namespace.
    """
    what = f"Nebius {requirement.kind} {requirement.match_name}"
    found = observed.required_or_none(requirement.key)
    if found is None:
        return Credentials(problem=f"waiting for {what} to be fetched", waiting=True)
    configs, unreadable = found.of(Unstructured), found.problems(Unstructured)
    if not configs:
        why = unreadable[0] if unreadable else "it does not exist"
        return Credentials(problem=f"{what} cannot be used: {why}")
    spec = configs[0].data.get("spec")
    credentials = spec.get("credentials") if isinstance(spec, Mapping) else None
    ref = credentials.get("secretRef") if isinstance(credentials, Mapping) else None
    source = credentials.get("source") if isinstance(credentials, Mapping) else None
    if source != "Secret" or not isinstance(ref, Mapping):
        return Credentials(
            problem=f"{what} takes its credentials from {source or 'nowhere'}, not a Secret; "
            "Modelplane reaches the cluster with that Secret's service account key"
        )
    name, key = ref.get("name"), ref.get("key")
    secret_namespace = ref.get("namespace") if requirement.kind != "ProviderConfig" else namespace
    if not (isinstance(name, str) and name and isinstance(key, str) and key):
        return Credentials(problem=f"{what} names no Secret key in spec.credentials.secretRef")
    if not (isinstance(secret_namespace, str) and secret_namespace):
        return Credentials(problem=f"{what} names no namespace for its credentials Secret")
    return Credentials(secret=SecretKey(name=name, key=key, namespace=secret_namespace))


def bootstrap_provider_config(
    *, name: str, namespace: str, kubeconfig: SecretKey, identity: SecretKey
) -> dict[str, Any]:
    """provider-helm reaching the cluster as the Nebius service account."""
    return kubeconfig_provider_config(
        api_version=HELM_API_VERSION,
        kind="ProviderConfig",
        name=name,
        namespace=namespace,
        kubeconfig=kubeconfig,
        identity=Identity(type=IDENTITY_TYPE, secret=identity),
    )


def access_manifests() -> list[dict[str, Any]]:
    """The ServiceAccount Modelplane acts as, its cluster-admin binding and its token."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": SERVICE_ACCOUNT, "namespace": ACCESS_NAMESPACE},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": SERVICE_ACCOUNT},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": ACCESS_NAMESPACE}
            ],
        },
        {
            # Kubernetes fills a Secret of this type with a token that does not expire.
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": TOKEN_SECRET,
                "namespace": ACCESS_NAMESPACE,
                "annotations": {"kubernetes.io/service-account.name": SERVICE_ACCOUNT},
            },
            "type": "kubernetes.io/service-account-token",
        },
    ]


def access_release(*, provider_config: str, namespace: str, token_secret: str) -> dict[str, Any]:
    """The manifests above, installed with the bootstrap provider config.

    The token is copied to ``token_secret`` (key ``token``) on the control
    cluster; the Secret is the release's own, so its contents stay with it.
    Orphaned on delete: deleting the cluster takes them with it, and asking
    for their removal then would wait for a cluster that is going away.
    """
    manifest = release(
        helm_chart("rawManifests"),
        provider_config=provider_config,
        namespace=namespace,
        release_name="modelplane-access",
        values={"resources": access_manifests()},
        management_policies=ORPHAN_ON_DELETE,
    )
    manifest["spec"]["connectionDetails"] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "name": TOKEN_SECRET,
            "namespace": ACCESS_NAMESPACE,
            "fieldPath": f"data.{TOKEN_KEY}",
            "toConnectionSecretKey": TOKEN_KEY,
        }
    ]
    manifest["spec"]["writeConnectionSecretToRef"] = {"name": token_secret}
    return manifest


def token_kubeconfig(cluster_kubeconfig: bytes, token: bytes, *, name: str) -> str | None:
    """The cluster's endpoint and CA with the token as credentials; None when either is unusable.

    The cluster's own kubeconfig may list several clusters; its current
    context's (else its first) is the one to reach.
    """
    try:
        config = yaml.load(cluster_kubeconfig.decode(), Loader=_LOADER)
        bearer = token.decode().strip()
    except (UnicodeDecodeError, yaml.YAMLError):
        return None
    cluster = _current_cluster(config)
    server = cluster.get("server") if cluster is not None else None
    if not isinstance(server, str) or not server or not bearer:
        return None
    entry: dict[str, str] = {"server": server}
    authority = cluster.get("certificate-authority-data") if cluster is not None else None
    if isinstance(authority, str) and authority:
        entry["certificate-authority-data"] = authority
    assembled = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": entry}],
        "users": [{"name": USER, "user": {"token": bearer}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": USER}}],
        "current-context": name,
    }
    text: str = yaml.dump(assembled, Dumper=_DUMPER, sort_keys=True)
    return text


def _current_cluster(config: object) -> Mapping[str, Any] | None:
    if not isinstance(config, Mapping):
        return None
    clusters = {
        c.get("name"): c.get("cluster")
        for c in config.get("clusters") or ()
        if isinstance(c, Mapping) and isinstance(c.get("cluster"), Mapping)
    }
    contexts = {
        c.get("name"): c.get("context")
        for c in config.get("contexts") or ()
        if isinstance(c, Mapping) and isinstance(c.get("context"), Mapping)
    }
    current = contexts.get(config.get("current-context"))
    name = current.get("cluster") if isinstance(current, Mapping) else None
    chosen = clusters.get(name) if name in clusters else next(iter(clusters.values()), None)
    return chosen if isinstance(chosen, Mapping) else None


def kubeconfig_secret(*, name: str, namespace: str, kubeconfig: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {KUBECONFIG_KEY: base64.b64encode(kubeconfig.encode()).decode()},
    }
