"""Which hosts a webhook may reach: public addresses and this machine's (loopback) by
default; private, link-local and other non-public ones only when the host allows them.

Loopback stays allowed by default because SPEC §9's webhooks are registered with receivers
on the same machine (tests, sidecars); ``Reach(loopback=False)`` refuses it too.

A webhook URL comes from whoever may register one; without this, a relay inside the
network would POST to the database's port, a cloud's metadata service (169.254.169.254) or
taskflow's own API. Names are checked where they are resolved, when sending
(``http_sender.py``); at registration only what needs no resolving is refused: literal
addresses in any of the forms a resolver accepts (``127.1``, ``2130706433``, ``0x7f.0.0.1``)
and ``localhost``.
"""

from __future__ import annotations

import ipaddress
import socket

import attrs


class PrivateAddress(ValueError):
    """The URL's host is (or resolves to) an address that is not public."""


@attrs.frozen
class Reach:
    """What a flow's webhooks may reach besides public addresses."""

    private: bool = False  # private, link-local, shared, reserved...: every address
    loopback: bool = True  # this machine: 127.0.0.0/8, ::1, localhost

    def allows(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return self.private or is_public(address) or (self.loopback and address.is_loopback)


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names without resolving, in any form a resolver takes; else None."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        # The legacy forms (127.1, 2130706433, 0x7f.1, 0177.1) that getaddrinfo accepts too.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_host(host: str, reach: Reach) -> None:
    """Refuse, without resolving, a host that names an address ``reach`` does not allow:
    PrivateAddress."""
    if reach.private:
        return
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        if reach.loopback:
            return
        raise PrivateAddress(f"{host} is this machine, not a public address")
    address = literal_address(host)
    if address is not None and not reach.allows(address):
        raise PrivateAddress(f"{host} is not a public address")


def check_reachable(address: str, host: str, reach: Reach) -> None:
    """Refuse a resolved ``address`` of ``host`` that ``reach`` does not allow:
    PrivateAddress."""
    if not reach.allows(ipaddress.ip_address(address.split("%", 1)[0])):
        raise PrivateAddress(f"{host} resolves to {address}, which is not a public address")
