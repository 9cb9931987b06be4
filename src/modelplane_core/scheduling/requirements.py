"""A deployment's hardware requirements, compiled once per scheduling cycle.

Each engine member's device requests become compiled CEL selectors plus a
signature (the requests' content, as nested tuples). Signatures are what
matching results are remembered on: two deployments asking for "one GPU with
>= 40Gi" share every pool decision, whatever they are called.
"""

from __future__ import annotations

from collections.abc import Hashable

import attrs

from modelplane_core import cel
from modelplane_core.api.model_deployment import Engine, EngineMember, ModelDeploymentSpec, Role


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
    signature: Hashable


@attrs.frozen(kw_only=True)
class EngineRequirement:
    name: str
    copies: int
    members: tuple[MemberRequirement, ...]
    signature: Hashable

    def shape(self) -> tuple[str, tuple[Role, ...]]:
        """Engine name and member roles: what a running replica must still look like."""
        return self.name, tuple(m.role for m in self.members)


class SelectorCompileError(ValueError):
    """A selector of the deployment does not compile; ``path`` locates it."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def _member(member: EngineMember, path: str, cache: cel.SelectorCache | None) -> MemberRequirement:
    requests = []
    if member.node_selector is not None:
        for r_index, request in enumerate(member.node_selector.devices):
            expressions = tuple(s.cel for s in request.selectors if s.cel is not None)
            compiled = []
            for s_index, expression in enumerate(expressions):
                try:
                    compiled.append(cel.compile(expression, cache))
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
    signature = (
        member.node_selector is not None,
        tuple((r.name, r.count, r.expressions) for r in requests),
    )
    return MemberRequirement(
        role=member.role,
        pods=member.pods,
        has_selector=member.node_selector is not None,
        requests=tuple(requests),
        signature=signature,
    )


def _engine(engine: Engine, path: str, cache: cel.SelectorCache | None) -> EngineRequirement:
    members = tuple(
        _member(member, f"{path}.members[{index}]", cache)
        for index, member in enumerate(engine.members)
    )
    # Everything a pool decision depends on: requests, roles, pods and copies (the cost).
    signature = (engine.copies, tuple((m.role, m.pods, m.signature) for m in members))
    return EngineRequirement(
        name=engine.name, copies=engine.copies, members=members, signature=signature
    )


def compile_engines(
    spec: ModelDeploymentSpec, cache: cel.SelectorCache | None = None
) -> tuple[EngineRequirement, ...]:
    """Compile every engine's requests; raises :class:`SelectorCompileError` with a field path."""
    return tuple(
        _engine(engine, f"spec.engines[{index}]", cache)
        for index, engine in enumerate(spec.engines)
    )
