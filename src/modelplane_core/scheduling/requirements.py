"""A deployment's hardware requirements, compiled once per scheduling pass.

Each engine member's device requests become compiled CEL selectors plus a
signature (the requests' content). Signatures are what matching results are
memoized on: two deployments asking for "one GPU with >= 40Gi" share every
pool decision, whatever they are called.
"""

from __future__ import annotations

import functools
import json

import attrs

from modelplane_core import cel
from modelplane_core.api.model_deployment import Engine, EngineMember, ModelDeploymentSpec, Role
from modelplane_core.api.model_replica import ReplicaEngine


@attrs.frozen(kw_only=True)
class RequestRequirement:
    name: str
    count: int
    expressions: tuple[str, ...]
    selectors: tuple[cel.Selector, ...] = attrs.field(eq=False, repr=False)


@attrs.frozen(kw_only=True)
class MemberRequirement:
    role: Role
    pods: int
    # False for a member without nodeSelector: it claims nothing and rides on its engine's pool.
    has_selector: bool
    requests: tuple[RequestRequirement, ...]
    signature: str


@attrs.frozen(kw_only=True)
class EngineRequirement:
    name: str
    copies: int
    members: tuple[MemberRequirement, ...]
    signature: str

    def shape(self) -> tuple[str, tuple[Role, ...]]:
        """Engine name and member roles: what a running replica must still look like."""
        return self.name, tuple(m.role for m in self.members)


class SelectorCompileError(ValueError):
    """A selector of the deployment does not compile; ``path`` locates it."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


@functools.lru_cache(maxsize=4096)
def _compiled(expression: str) -> cel.Selector:
    return cel.compile(expression)


def _member(member: EngineMember, path: str) -> MemberRequirement:
    requests = []
    if member.node_selector is not None:
        for r_index, request in enumerate(member.node_selector.devices):
            expressions = tuple(s.cel for s in request.selectors if s.cel is not None)
            compiled = []
            for s_index, expression in enumerate(expressions):
                try:
                    compiled.append(_compiled(expression))
                except cel.CompileError as exc:
                    raise SelectorCompileError(
                        f"{path}.nodeSelector.devices[{r_index}].selectors[{s_index}].cel",
                        exc.message,
                    ) from exc
            requests.append(
                RequestRequirement(
                    name=request.name,
                    count=request.count,
                    expressions=expressions,
                    selectors=tuple(compiled),
                )
            )
    signature = json.dumps(
        [
            member.node_selector is not None,
            [[r.name, r.count, list(r.expressions)] for r in requests],
        ],
        separators=(",", ":"),
    )
    return MemberRequirement(
        role=member.role,
        pods=member.pods,
        has_selector=member.node_selector is not None,
        requests=tuple(requests),
        signature=signature,
    )


def _engine(engine: Engine, path: str) -> EngineRequirement:
    members = tuple(
        _member(member, f"{path}.members[{index}]") for index, member in enumerate(engine.members)
    )
    # Everything a pool decision depends on: requests, roles, pods and copies (the cost).
    signature = json.dumps(
        [engine.copies, [[m.role, m.pods, m.signature] for m in members]], separators=(",", ":")
    )
    return EngineRequirement(
        name=engine.name, copies=engine.copies, members=members, signature=signature
    )


def compile_engines(spec: ModelDeploymentSpec) -> tuple[EngineRequirement, ...]:
    """Compile every engine's requests; raises :class:`SelectorCompileError` with a field path."""
    return tuple(
        _engine(engine, f"spec.engines[{index}]") for index, engine in enumerate(spec.engines)
    )


def replica_shape(engines: tuple[ReplicaEngine, ...]) -> tuple[tuple[str, tuple[Role, ...]], ...]:
    return tuple((e.name, tuple(m.role for m in e.members)) for e in engines)
