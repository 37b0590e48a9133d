"""httpcore's socket backend, connecting only to addresses guard's policy allows.

Apart from guard itself, so that parsing a URL (urls, through guard) does not load the HTTP
stack: commands that make no request start faster.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore

from .guard import Policy, Resolver, checked_addresses, system_resolver


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to addresses the policy allows.

    httpcore passes the URL's host here and the same host, separately, to `start_tls` as the
    server name, so certificates are still checked against the name, not the address.
    """

    def __init__(self, policy: Policy, resolver: Resolver = system_resolver) -> None:
        self.policy = policy
        self.resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = checked_addresses(host, port, self.policy, self.resolver)
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last = e
        assert last is not None
        raise last
