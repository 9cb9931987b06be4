"""Related resources as composers see them: decoded once, at the boundary.

Whoever fetches a composer's required resources (the Crossplane adapter from
a RunFunctionRequest, the controller from its watch cache, the simulator from
its store) decodes them before calling the composer, into a :class:`Fetched`:
the objects that decoded, typed, and a readable :class:`Unreadable` for each
one that did not. A composer never decodes: it reads typed objects, and an
object that cannot be read is reported by name, never allowed to crash the
composer and never silently treated as absent (which could tear down what
depends on it).

Decoding the same object version again and again is the boundary's cost, so
:class:`Decoder` remembers decoded objects by version (apiVersion, kind,
namespace, name, uid and the API server's resourceVersion): an object that
has not changed is decoded once and then handed over as the very same object,
which is also what lets later caches (validation, the scheduler's views)
recognise it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

import attrs

from modelplane_core.api.documents import AnyObject, Unstructured, decode, from_dict
from modelplane_core.api.errors import ValidationError
from modelplane_core.api.registry import KINDS, Resource, kind_class
from modelplane_core.memo import DEFAULT_LIMIT, Memo

T = TypeVar("T")
R = TypeVar("R", bound=Resource)


@attrs.frozen(kw_only=True)
class Unreadable:
    """A fetched object that could not be decoded: who it is and what is wrong."""

    name: str  # namespace/name, or name
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name} cannot be read: {self.message}"


@attrs.frozen(kw_only=True)
class Fetched:
    """One requirement's result: decoded objects, and the ones that could not be decoded."""

    items: tuple[AnyObject, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()
    # The one class every item has, if they share one: ``of`` then returns ``items``
    # itself, so a caller handing the same Fetched gets the very same tuple back.
    _kind: type | None = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(
            lambda self: (
                type(self.items[0])
                if self.items and all(type(i) is type(self.items[0]) for i in self.items)
                else None
            ),
            takes_self=True,
        ),
    )

    def of(self, cls: type[T]) -> tuple[T, ...]:
        """The fetched objects of type ``cls``."""
        if self._kind is cls:
            return self.items  # type: ignore[return-value]
        return tuple(item for item in self.items if isinstance(item, cls))

    def problems(self, cls: type[Any]) -> list[str]:
        """Why some fetched objects cannot be used as ``cls``, one message each."""
        unreadable = [str(u) for u in self.unreadable]
        if self._kind is cls or not self.items:
            return unreadable
        kind = cls.__name__
        wrong = [
            f"{_label(item)} is not a {kind}" for item in self.items if not isinstance(item, cls)
        ]
        return unreadable + wrong

    def __len__(self) -> int:
        return len(self.items) + len(self.unreadable)


def typed(found: Fetched | None, cls: type[R]) -> tuple[tuple[R, ...], list[str]]:
    """The ``cls`` objects of a requirement (none while unfetched) and what cannot be used."""
    if found is None:
        return (), []
    return found.of(cls), found.problems(cls)


def fetched(items: Iterable[AnyObject | Mapping[str, Any]] | Fetched) -> Fetched:
    """``items`` as a :class:`Fetched`: typed objects kept, raw manifests decoded now.

    This is the boundary for callers that build an :class:`~.composition.Observed`
    by hand (tests, notebooks, ``modelplane render``): whatever they hold is
    decoded here, once, before any composer runs. Adapters that see the same
    object versions again and again decode through a :class:`Decoder` instead.
    """
    if isinstance(items, Fetched):
        return items
    objects: list[AnyObject] = []
    unreadable: list[Unreadable] = []
    for item in items:
        if isinstance(item, Mapping):
            try:
                objects.append(decode(item))
            except ValidationError as exc:
                unreadable.append(unreadable_from(item, exc))
        elif isinstance(item, (*KINDS, Unstructured)):
            objects.append(item)
        else:
            raise TypeError(f"a required resource must be an object, not {type(item).__name__}")
    return Fetched(items=tuple(objects), unreadable=tuple(unreadable))


def decoded_or_none(manifest: Mapping[str, Any]) -> Resource | None:
    """A composed resource of one of Modelplane's kinds, decoded; None otherwise or unreadable."""
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    if kind_class(api_version, kind) is None:
        return None
    try:
        return from_dict(manifest)
    except ValidationError:
        return None


def object_name(raw: object) -> str:
    """``namespace/name`` (or ``name``) of a raw manifest, for messages."""
    if not isinstance(raw, Mapping):
        return "<not an object>"
    metadata = raw.get("metadata")
    if not isinstance(metadata, Mapping):
        return "<unnamed>"
    name = str(metadata.get("name") or "<unnamed>")
    namespace = metadata.get("namespace")
    return f"{namespace}/{name}" if namespace else name


def _label(item: AnyObject) -> str:
    metadata = getattr(item, "metadata", None)
    if metadata is not None:
        name = metadata.name or "<unnamed>"
        return f"{metadata.namespace}/{name}" if metadata.namespace else name
    return object_name(getattr(item, "data", None))


def version_key(raw: Mapping[str, Any]) -> tuple[str, ...] | None:
    """What identifies one version of an object, or None when it carries no resourceVersion.

    apiVersion, kind, namespace, name, uid and resourceVersion (missing parts
    as ""): the API server changes the resourceVersion on every write, so
    equal keys are equal objects.
    """
    metadata = raw.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    version = metadata.get("resourceVersion")
    if not isinstance(version, str) or not version:
        return None

    def text(value: object) -> str:
        return value if isinstance(value, str) else ""

    return (
        text(raw.get("apiVersion")),
        text(raw.get("kind")),
        text(metadata.get("namespace")),
        text(metadata.get("name")),
        text(metadata.get("uid")),
        version,
    )


class Decoder:
    """Decodes fetched manifests, remembering each object version it decoded (bounded)."""

    __slots__ = ("_decoded", "_derived")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._decoded: Memo[Hashable, AnyObject | ValidationError] = Memo(limit)
        # What a boundary derives from one object version besides decoding it (a
        # composite's admission check, say), by the boundary's own key.
        self._derived: Memo[Hashable, object] = Memo(limit)

    def remember(self, key: Hashable | None, compute: Callable[[], T]) -> T:
        """``compute()`` once per ``key`` (an object version); every time when None."""
        if key is None:
            return compute()
        return self._derived.get(key, compute)  # type: ignore[return-value]

    def decode(self, raw: Mapping[str, Any], key: Hashable | None = None) -> AnyObject:
        """One manifest, typed; raises :class:`ValidationError`. ``key`` defaults to its version."""
        return self.decode_lazily(key if key is not None else version_key(raw), lambda: raw)

    def decode_lazily(
        self, key: Hashable | None, load: Callable[[], Mapping[str, Any]]
    ) -> AnyObject:
        """Like :meth:`decode`, reading the manifest only when this version is new.

        A boundary that holds objects in another encoding (protobuf) computes
        the version key from it directly and converts only what it must.
        """
        if key is None:
            return decode(load())
        found = self._decoded.get(key, lambda: _decode_or_error(load()))
        if isinstance(found, ValidationError):
            raise found
        return found

    def fetch(self, items: Iterable[Mapping[str, Any]]) -> Fetched:
        """A requirement's fetched manifests, decoded: the readable ones and the others."""
        decoded: list[AnyObject] = []
        unreadable: list[Unreadable] = []
        for raw in items:
            try:
                decoded.append(self.decode(raw))
            except ValidationError as exc:
                unreadable.append(unreadable_from(raw, exc))
        return Fetched(items=tuple(decoded), unreadable=tuple(unreadable))


def unreadable_from(raw: object, error: ValidationError) -> Unreadable:
    kind = raw.get("kind") if isinstance(raw, Mapping) else None
    first = str(error.errors[0]) if error.errors else "unreadable"
    return Unreadable(name=object_name(raw), kind=str(kind or "object"), message=first)


def _decode_or_error(raw: Mapping[str, Any]) -> AnyObject | ValidationError:
    try:
        return decode(raw)
    except ValidationError as exc:
        return exc
