"""Which hosts a webhook may reach: public addresses only, unless the host allows others.

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


class PrivateAddress(ValueError):
    """The URL's host is (or resolves to) an address that is not public."""


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


def check_host(host: str) -> None:
    """Refuse a host that names a non-public address without resolving: PrivateAddress."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        raise PrivateAddress(f"{host} is this machine, not a public address")
    address = literal_address(host)
    if address is not None and not is_public(address):
        raise PrivateAddress(f"{host} is not a public address")


def check_public(address: str, host: str) -> None:
    """Refuse a resolved ``address`` of ``host`` that is not public: PrivateAddress."""
    if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
        raise PrivateAddress(f"{host} resolves to {address}, which is not a public address")
