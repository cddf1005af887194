"""A client's address in the one form every check reads it in.

An IPv4 client reaching a dual-stack socket (a listener on ``::``, or a proxy on one
that forwards the address it saw) arrives as ``::ffff:203.0.113.9``. D-lines, K-lines,
the per-address limits and the throttles are written and counted in IPv4 terms, so an
address left in its mapped form would escape all of them (probe 22).
"""

from __future__ import annotations

import ipaddress
import sys


def plain_address(host: str) -> str:
    """``host``, an IPv4-mapped IPv6 address turned into the IPv4 address it carries."""
    # Every mapped form has "ffff" in it; other addresses are not parsed at all, as
    # this runs for every accepted connection.
    if ":" not in host or "ffff" not in host.lower():
        return host
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return host  # a zone id, or not an address: matched as it is
    mapped = address.ipv4_mapped
    return host if mapped is None else str(mapped)


def peer_host(peername: object) -> str:
    """The client's address from a transport's ``peername``, or ``"unknown"``.

    One string for the connections of one address (a bouncer's, a NAT's), not 58 bytes
    each: the gate's count keeps it as long as one of them is open.
    """
    if not isinstance(peername, tuple):
        return "unknown"
    return sys.intern(plain_address(peername[0]))
