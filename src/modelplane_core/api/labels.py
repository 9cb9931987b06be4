"""Kubernetes label and name grammar, so bad labels are caught before a cluster sees them."""

from __future__ import annotations

import re
from typing import Final

_NAME_PART: Final = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN: Final = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_DNS_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def qualified_name_problem(key: str) -> str | None:
    """Why ``key`` is not a valid label/annotation key (``[prefix/]name``), or None."""
    prefix, _, name = key.rpartition("/")
    if "/" in key and not prefix:
        return "the prefix before '/' must not be empty"
    if prefix:
        if len(prefix) > 253:
            return "the prefix must be a DNS subdomain of at most 253 characters"
        if not _DNS_SUBDOMAIN.match(prefix):
            return "the prefix must be a DNS subdomain (lowercase letters, digits, '-' and '.')"
    if not name:
        return "the name part must not be empty"
    if len(name) > 63:
        return "the name part must be at most 63 characters"
    if not _NAME_PART.match(name):
        return (
            "the name part must consist of letters, digits, '-', '_' or '.', and start and "
            "end with a letter or digit"
        )
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or None."""
    if value == "":
        return None
    if len(value) > 63:
        return "a label value must be at most 63 characters"
    if not _NAME_PART.match(value):
        return (
            "a label value must consist of letters, digits, '-', '_' or '.', and start and "
            "end with a letter or digit"
        )
    return None


def dns_subdomain_problem(name: str) -> str | None:
    if len(name) > 253:
        return "must be at most 253 characters"
    if not _DNS_SUBDOMAIN.match(name):
        return (
            "must be a DNS subdomain: lowercase letters, digits, '-' and '.', "
            "alphanumeric at both ends"
        )
    return None


def dns_label_problem(name: str) -> str | None:
    if len(name) > 63:
        return "must be at most 63 characters"
    if not _DNS_LABEL.match(name):
        return "must be a DNS label: lowercase letters, digits and '-', alphanumeric at both ends"
    return None
