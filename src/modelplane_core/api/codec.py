"""Wire codec: camelCase JSON-like dicts <-> typed, frozen API objects.

Built on cattrs with hooks that make it as strict as the Kubernetes API server
is about types: no silent ``2.5 -> 2`` or ``"3" -> 3``, no string read as a
list of characters, unknown fields rejected (the API server would prune them,
which hides typos; we prefer to say so). Every problem in a document is
collected and reported with its wire path, not just the first one.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, cast, get_args, get_origin

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory, mapping_structure_factory
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from modelplane_core.api.errors import (
    FieldError,
    ValidationError,
    index_path,
    join_path,
    key_path,
    shown,
)
from modelplane_core.api.fields import constraints_of, is_required, wire_fields, wire_name

T = TypeVar("T")


class _WireTypeError(TypeError):
    """A scalar or container of the wrong JSON type; its message is shown verbatim."""


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def shown_value(value: object) -> str:
    """A wrong value as a message shows it: its JSON type, and the value itself if a scalar."""
    if value is None or isinstance(value, list | tuple | Mapping):
        return _json_type(value)
    shown = repr(value)
    return f"{_json_type(value)} {shown if len(shown) <= 80 else shown[:77] + '...'}"


def _structure_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise _WireTypeError(f"expected a string, got {shown_value(value)}")
    return value


def _structure_int(value: object, _: type) -> int:
    # Integral floats are accepted because JSON (and protobuf Struct) cannot tell 2
    # from 2.0; anything that would lose information is rejected.
    if isinstance(value, bool):
        raise _WireTypeError(f"expected an integer, got {shown_value(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _WireTypeError(f"expected an integer, got {shown_value(value)}")


def _structure_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise _WireTypeError(f"expected a boolean (true or false), got {shown_value(value)}")
    return value


def _is_literal(type_: Any) -> bool:
    return get_origin(type_) is Literal


def _structure_literal(value: object, type_: Any) -> object:
    allowed = get_args(type_)
    if value not in allowed or isinstance(value, bool):
        choices = ", ".join(str(a) for a in allowed)
        given = "null" if value is None else shown(value)
        raise _WireTypeError(f"unsupported value {given}: must be one of {choices}")
    return value


def _is_homogeneous_tuple(type_: Any) -> bool:
    args = get_args(type_)
    return get_origin(type_) is tuple and len(args) == 2 and args[1] is Ellipsis


def _is_mapping(type_: Any) -> bool:
    return get_origin(type_) in (Mapping, dict, typing.Mapping)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook_func(_is_literal, _structure_literal)

    def tuple_factory(type_: Any) -> Callable[[Any, Any], Any]:
        inner = homogenous_tuple_structure_factory(type_, converter)

        def structure(value: object, t: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise _WireTypeError(f"expected an array, got {shown_value(value)}")
            return inner(value, t)

        return structure

    def mapping_factory(type_: Any) -> Callable[[Any, Any], Any]:
        inner = mapping_structure_factory(type_, converter)

        def structure(value: object, t: Any) -> Any:
            if not isinstance(value, Mapping):
                raise _WireTypeError(f"expected an object, got {shown_value(value)}")
            return inner(value, t)

        return structure

    def class_factory(cls: type) -> Callable[[Any, Any], Any]:
        renames: dict[str, Any] = {
            a.name: override(omit=True)
            if constraints_of(a).internal
            else override(rename=wire_name(a))
            for a in attrs.fields(cls)
        }
        inner: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=True, **renames
        )
        # Like the API server, a null in a field that has a default (or is optional)
        # means "not set": the server prunes it and applies the default. A null in a
        # required field stays, so it is reported as the wrong type.
        defaulted = frozenset(wire_name(a) for a in wire_fields(cls) if not is_required(a))

        def structure(value: object, t: Any) -> Any:
            if not isinstance(value, Mapping):
                raise _WireTypeError(f"expected an object, got {shown_value(value)}")
            if any(value[k] is None for k in defaulted.intersection(value)):
                value = {k: v for k, v in value.items() if v is not None or k not in defaulted}
            return inner(value, t)

        return structure

    def class_unstructure_factory(cls: type) -> Callable[[Any], Any]:
        overrides: dict[str, Any] = {
            a.name: override(omit=True)
            if constraints_of(a).internal
            else override(rename=wire_name(a), omit_if_default=a.default is None)
            for a in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, converter, **overrides)

    converter.register_structure_hook_factory(_is_homogeneous_tuple, tuple_factory)
    converter.register_structure_hook_factory(_is_mapping, mapping_factory)
    converter.register_structure_hook_factory(attrs.has, class_factory)
    converter.register_unstructure_hook_factory(attrs.has, class_unstructure_factory)
    converter.register_unstructure_hook(tuple, lambda t: [converter.unstructure(v) for v in t])
    return converter


CONVERTER = _make_converter()


def structure(data: object, cls: type[T], path: str = "") -> T:
    """Decode wire data into ``cls``; raise :class:`ValidationError` listing every problem."""
    try:
        return CONVERTER.structure(data, cls)
    except Exception as exc:  # cattrs raises groups; anything else is a bug we still report
        raise ValidationError(_field_errors(exc, path, cls)) from exc


def unstructure(obj: object) -> Any:
    """Encode a typed object to wire data; unset optionals are omitted."""
    return CONVERTER.unstructure(obj)


def _field_errors(exc: BaseException, path: str, cls: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    _collect(exc, path, cls, errors)
    return errors or [FieldError(path, str(exc))]


@functools.cache
def _wire_names(cls: type) -> dict[str, str]:
    return {a.name: wire_name(a) for a in wire_fields(cls)}


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _collect(exc: BaseException, path: str, cls: Any, out: list[FieldError]) -> None:
    if isinstance(exc, ClassValidationError):
        attribute_errors, without = exc.group_exceptions()
        for sub, note in attribute_errors:
            name = note.name
            wire = _wire_names(exc.cl).get(name, name)
            sub_path = join_path(path, wire)
            if isinstance(sub, KeyError) and not isinstance(sub, ForbiddenExtraKeysError):
                out.append(FieldError(sub_path, "required field is missing"))
            else:
                _collect(sub, sub_path, _field_types(exc.cl).get(name), out)
        for sub in without:
            _collect(sub, path, exc.cl, out)
        return
    if isinstance(exc, IterableValidationError):
        item_errors, leftovers = exc.group_exceptions()
        for sub, item in item_errors:
            index = getattr(item, "index", None)
            if isinstance(index, int):
                sub_path = index_path(path, index)
            elif index is not None:
                sub_path = key_path(path, str(index))
            else:
                sub_path = path
            _collect(sub, sub_path, None, out)
        for sub in leftovers:
            _collect(sub, path, None, out)
        return
    if isinstance(exc, ForbiddenExtraKeysError):
        allowed = sorted(_wire_names(exc.cl).values())
        # YAML keys need not be strings (``1: x``, ``~: y``); name them as YAML does.
        for name in sorted(_key_text(k) for k in exc.extra_fields):
            out.append(
                FieldError(
                    join_path(path, name),
                    f"unknown field (allowed here: {', '.join(allowed)})",
                )
            )
        return
    if isinstance(exc, BaseExceptionGroup):
        for member in exc.exceptions:
            _collect(member, path, cls, out)
        return
    if isinstance(exc, _WireTypeError):
        out.append(FieldError(path, str(exc)))
        return
    if isinstance(exc, TypeError | ValueError | AttributeError) and cls is not None:
        out.append(FieldError(path, f"invalid value for {_describe(cls)}: {exc}"))
        return
    out.append(FieldError(path, str(exc) or type(exc).__name__))


def _key_text(key: object) -> str:
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _describe(type_: Any) -> str:
    return cast(str, getattr(type_, "__name__", str(type_)))
