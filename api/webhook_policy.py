"""Where webhooks may point: the destination policy, checked when a webhook is
registered and again before every delivery.

Only `https` (and `http` where CREDITWATCH_WEBHOOK_ALLOW_HTTP allows it). The host is
resolved and every address it resolves to must be public: loopback, link-local (the
cloud metadata address 169.254.169.254 among them), private (RFC 1918, CGNAT
100.64/10, IPv6 ULA fc00::/7), unspecified, multicast and reserved addresses are
refused, IPv4-mapped and 6to4 IPv6 addresses judged by the IPv4 address inside,
unless the operator's allow-list (CREDITWATCH_WEBHOOK_ALLOW: host names or CIDRs)
names the host or covers the address.

At delivery the request goes to the address just checked (the URL's host stays in the
Host header and in TLS's SNI and certificate check): resolving again when connecting
would let a name that answers a public address to the check and an internal one to
the connection (DNS rebinding) through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from api.errors import clip
from streams.settings import ApiSettings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: host, port -> the addresses it resolves to (tests inject their own)
Resolver = Callable[[str, int], Awaitable[list[str]]]

#: refused beyond what `is_global` already refuses: multicast counts as global there,
#: and NAT64 reaches IPv4 addresses of every kind
_REFUSED: tuple[Network, ...] = (
    ipaddress.ip_network("224.0.0.0/4"),
    ipaddress.ip_network("ff00::/8"),
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
)


class DestinationRefused(Exception):
    """The URL may not be a webhook's destination; the message says why."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet.

    >>> [is_public(ipaddress.ip_address(a)) for a in ("8.8.8.8", "10.0.0.1", "::ffff:127.0.0.1")]
    [True, False, False]
    """
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is not None and not is_public(inner):
            return False
    return address.is_global and not any(address in net for net in _REFUSED)


@dataclass(frozen=True)
class Destination:
    """A checked destination: the request goes to `address`, named `host`."""

    url: httpx.URL
    host: str
    address: Address

    def request_url(self) -> httpx.URL:
        """The URL with the checked address in place of the name."""
        return self.url.copy_with(host=str(self.address))

    def host_header(self) -> str:
        port = self.url.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if port is None else f"{host}:{port}"

    def extensions(self) -> dict[str, str]:
        """TLS's server name and certificate check follow the name, not the address."""
        return {"sni_hostname": self.host} if self.url.scheme == "https" else {}


@dataclass(frozen=True)
class DestinationPolicy:
    allow_http: bool
    hosts: frozenset[str]
    networks: tuple[Network, ...]

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> DestinationPolicy:
        hosts, networks = set(), []
        for entry in settings.webhook_allow:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(settings.webhook_allow_http, frozenset(hosts), tuple(networks))

    def admits(self, host: str, address: Address) -> bool:
        return host in self.hosts or is_public(address) or self._listed(address)

    def _listed(self, address: Address) -> bool:
        candidates: Iterable[Address] = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            candidates = [address, address.ipv4_mapped]
        return any(a in net for a in candidates for net in self.networks)

    async def check(self, url: str, resolve: Resolver) -> Destination:
        """The destination to deliver to, or DestinationRefused."""
        parts = urlsplit(url)
        schemes = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in schemes:
            raise DestinationRefused(f"the URL must be {' or '.join(schemes)}")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise DestinationRefused("the URL has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise DestinationRefused("the URL's port is invalid") from None
        try:
            literal: Address | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            found = [literal]
        else:
            try:
                found = [ipaddress.ip_address(a.split("%")[0]) for a in await resolve(host, port)]
            except (OSError, UnicodeError, ValueError):
                found = []
            if not found:
                raise DestinationRefused(f"the host {clip(host)!r} does not resolve")
        refused = [str(a) for a in found if not self.admits(host, a)]
        if refused:
            raise DestinationRefused(
                f"the host {clip(host)!r} is or resolves to a non-public address "
                f"({', '.join(refused)}); an operator may allow it (CREDITWATCH_WEBHOOK_ALLOW)"
            )
        return Destination(httpx.URL(url), host, found[0])


def resolver_of(app: object) -> Resolver:
    """The app's resolver: the system's, unless a test put its own in app.state."""
    state = getattr(app, "state", None)
    resolver: Resolver = getattr(state, "resolver", None) or system_resolver
    return resolver
