"""The private-address guard: no request may reach this machine or its private networks.

An article is untrusted input: a link to `http://169.254.169.254/` or `http://127.1:8080/`
would otherwise make embedarc fetch (and archive) what only the local network should see.

Two checks, because a proxy changes who resolves names:

* before every request, redirects included (`check_target`): literal addresses in every
  spelling a resolver accepts (`127.1`, `0x7f000001`, `2130706433`, `[::ffff:127.0.0.1]`) and
  local names (`localhost`, `*.localhost`, `*.local`, `*.internal`, single-label names);
* when connecting without a proxy (`GuardedBackend.connect_tcp`): the name is resolved once,
  every address is checked, and the connection goes to a checked address, so a second DNS
  answer cannot point elsewhere. TLS still verifies the certificate against the name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..errors import ConfigError, Refused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses to try, in order (strings, as getaddrinfo gives them)
Resolver = Callable[[str, int], list[str]]

LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# NAT64 prefixes carry an IPv4 address in their last 32 bits.
NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def system_resolver(host: str, port: int) -> list[str]:
    """The machine's resolver (getaddrinfo), addresses in its order, each once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        import httpcore  # here, not at the top: parsing URLs must not load the HTTP stack

        raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from e
    found: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class Policy:
    """What the guard lets through besides public addresses."""

    allow_private: bool = False  # no checks at all: for intranet use
    allow_names: tuple[str, ...] = ()  # these hosts and every host under them
    allow_networks: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, allow_private: bool, allow_hosts: Iterable[str]) -> Policy:
        names: list[str] = []
        networks: list[Network] = []
        for entry in allow_hosts:
            value = parse_allow_entry(entry)
            if isinstance(value, str):
                names.append(value)
            else:
                networks.append(value)
        return cls(allow_private, tuple(names), tuple(networks))

    def name_allowed(self, host: str) -> bool:
        return any(host == name or host.endswith("." + name) for name in self.allow_names)

    def address_allowed(self, address: IPAddress) -> bool:
        return any(address.version == n.version and address in n for n in self.allow_networks)


def parse_allow_entry(entry: str) -> str | Network:
    """`10.0.0.0/8` or `192.168.1.7` → a network; `intranet.example` → the name."""
    text = entry.strip().strip("[]").lower().rstrip(".")
    if not text:
        raise ConfigError("allow_hosts: an entry is empty")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        pass
    if "/" in text or ":" in text or " " in text:
        raise ConfigError(f"allow_hosts: {entry!r} is neither a host name nor an address range")
    return text


def normalise_host(host: str) -> str:
    """Lower case, without brackets, zone id or trailing dots: the form every check uses."""
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # an IPv6 zone id (fe80::1%eth0, or %25 in URLs)
    return text.rstrip(".")


def _ipv4_number(part: str) -> int | None:
    """One part of a legacy IPv4 spelling: decimal, 0x hex or 0-prefixed octal."""
    lower = part.lower()
    if lower.startswith("0x"):
        digits, base = lower[2:], 16
        if not digits:
            return 0
    elif len(lower) > 1 and lower.startswith("0"):
        digits, base = lower[1:], 8
    else:
        digits, base = lower, 10
    allowed = "0123456789abcdef"[:base]
    if not digits or any(c not in allowed for c in digits):
        return None
    return int(digits, base)


def parse_address(host: str) -> IPAddress | None:
    """The address a host stands for when it is a literal, in any spelling resolvers accept.

    `127.1`, `0x7f000001`, `2130706433`, `017700000001` and `0x7f.0.0.1` all mean 127.0.0.1
    to getaddrinfo and to browsers (the WHATWG URL standard), so they mean it here too.
    """
    text = normalise_host(host)
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    parts = text.split(".")
    if not parts or not 1 <= len(parts) <= 4 or "" in parts:
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    value = values[-1]
    for i, n in enumerate(values[:-1]):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def ends_in_number(host: str) -> bool:
    """Whether the last label is numeric: such a host is an address or invalid, never a name."""
    last = normalise_host(host).rsplit(".", 1)[-1]
    return bool(last) and _ipv4_number(last) is not None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64, compatible)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in prefix for prefix in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d, deprecated "compatible"
        return ipaddress.IPv4Address(int(address))
    return None


def forbidden(address: IPAddress) -> str | None:
    """Why an address is not a public one (None when it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            why = forbidden(inner)
            return f"{why} (inside {address})" if why else None
    for test, why in (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        # Deprecated site-local IPv6 (RFC 3879): some Pythons call it neither private nor
        # reserved, but routers may still deliver it inside a site.
        (getattr(address, "is_site_local", False), "a site-local address"),
        (not address.is_global, "not a public address"),
    ):
        if test:
            return f"{address} is {why}"
    return None


def is_local_name(host: str) -> bool:
    """Names that only mean something on this machine or its network."""
    name = normalise_host(host)
    return name in LOCAL_NAMES or name.endswith(LOCAL_SUFFIXES) or "." not in name


def check_target(host: str, policy: Policy) -> None:
    """Refuse a literal private address or a local name; names are checked on connect."""
    if policy.allow_private:
        return
    name = normalise_host(host)
    if policy.name_allowed(name):
        return
    address = parse_address(name)
    if address is not None:
        check_address(address, policy, host)
        return
    if ends_in_number(name):
        raise Refused(f"{host}: not a valid host name or address")
    if is_local_name(name):
        raise Refused(f"{host} is a local name, not a public host")


def check_address(address: IPAddress, policy: Policy, host: str) -> None:
    if policy.allow_private or policy.address_allowed(address):
        return
    why = forbidden(address)
    if why is not None:
        shown = why if normalise_host(host) == str(address) else f"{host}: {why}"
        raise Refused(shown)


def checked_addresses(host: str, port: int, policy: Policy, resolver: Resolver) -> list[str]:
    """Resolve `host` once and return its addresses if every one of them is allowed.

    Every address must pass, not just one: a name that also resolves to 10.0.0.5 is refused
    rather than left to the order in which addresses are tried.
    """
    check_target(host, policy)
    name = normalise_host(host)
    literal = parse_address(name)
    if literal is not None:
        return [str(literal)]
    addresses = resolver(name, port)
    if not addresses:
        import httpcore

        raise httpcore.ConnectError(f"cannot resolve {host}: no address")
    if policy.allow_private or policy.name_allowed(name):
        return addresses
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        check_address(address, policy, host)
    return addresses
