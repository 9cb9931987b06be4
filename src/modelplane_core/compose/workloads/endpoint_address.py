"""Where a ModelEndpoint's URL points: address, address type and port.

Shared by the ModelEndpoint composer (which builds the Service and
EndpointSlice from it) and the ModelService composer (which needs the same
port for its backendRef), so the two can never disagree.
"""

from __future__ import annotations

import ipaddress
from typing import Final, Literal
from urllib.parse import urlsplit

import attrs

from modelplane_core.api.labels import dns_subdomain_problem
from modelplane_core.api.rules import url_problem

AddressType = Literal["IPv4", "IPv6", "FQDN"]
DEFAULT_PORTS: Final = {"http": 80, "https": 443}


@attrs.frozen
class EndpointAddress:
    address: str
    address_type: AddressType
    port: int
    scheme: str
    path: str

    @property
    def default_rewrite_path(self) -> str:
        """The URL's own path as a prefix (``https://h/v1`` -> ``/v1/``)."""
        return self.path.rstrip("/") + "/"


def parse_endpoint_url(url: str) -> EndpointAddress | str:
    """The endpoint's address, or a message saying why ``url`` cannot be routed to."""
    problem = url_problem(url)
    if problem is not None:
        return problem
    parts = urlsplit(url)
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    port = parts.port or DEFAULT_PORTS[scheme]
    address_type: AddressType
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        if dns_subdomain_problem(host):
            return f"invalid URL {url!r}: the host {host!r} is not a valid DNS name"
        address_type = "FQDN"
    else:
        address_type = "IPv4" if version == 4 else "IPv6"
    return EndpointAddress(
        address=host, address_type=address_type, port=port, scheme=scheme, path=parts.path or "/"
    )
