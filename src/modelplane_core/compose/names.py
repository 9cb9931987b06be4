"""Stable, DNS-safe names for composed objects.

A name must be the same on every reconcile (or Crossplane would churn
objects), distinct for objects that differ in any part (two replicas of one
deployment on one cluster), and valid as a Kubernetes DNS label so it also
works as a label value and inside derived names.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

MAX_NAME: Final = 63
_HASH_LEN: Final = 5
_INVALID: Final = re.compile(r"[^a-z0-9-]+")
_DASHES: Final = re.compile(r"-{2,}")


def short_hash(text: str, length: int = _HASH_LEN) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def child_name(*parts: str, max_length: int = MAX_NAME) -> str:
    """``parts`` joined by '-', made DNS-label safe, with a hash of the exact parts.

    The hash is over the unmodified parts, so parts that sanitise to the same
    text (``a.b`` and ``a-b``) still get distinct names.
    """
    joined = "-".join(parts)
    digest = short_hash("\x00".join(parts))
    readable = _DASHES.sub("-", _INVALID.sub("-", joined.lower())).strip("-")
    prefix = readable[: max_length - _HASH_LEN - 1].rstrip("-")
    return f"{prefix}-{digest}" if prefix else digest


def suffixed(name: str, suffix: str, max_length: int = MAX_NAME) -> str:
    """``name-suffix`` when it fits, else a hashed short form that still ends in ``suffix``.

    Used for sub-objects such as ``<replica>-epp``, whose suffix carries meaning
    for a person reading ``kubectl get``.
    """
    candidate = f"{name}-{suffix}"
    if len(candidate) <= max_length:
        return candidate
    digest = short_hash(candidate)
    keep = max_length - len(suffix) - _HASH_LEN - 2
    return f"{name[:keep].rstrip('-')}-{digest}-{suffix}"
