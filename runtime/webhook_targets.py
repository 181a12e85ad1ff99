"""Where a webhook may point: public addresses only, unless an operator allows a named host.

A subscription could otherwise make the service POST signed requests to itself (127.0.0.1), to the cloud's metadata
service (169.254.169.254) or to anything else on the private network. The URL is checked when the subscription is
registered, and again at every send against what its name resolves to then; the request then goes to the very
address that was checked (the name stays in the Host header and in TLS), so a name that resolves to a public
address for the check and to an internal one a moment later (DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

Resolve = Callable[[str, int], Awaitable[list[str]]]


class TargetRefused(Exception):
    """The webhook's host is, or resolves to, an address inside: the message says which and why."""


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address the name resolves to now (OSError when it does not resolve)."""
    found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))


def inside(address: str) -> str | None:
    """Why an address is not one a webhook may reach, or None for a public one."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, applies in (
        ("loopback", ip.is_loopback),
        ("link-local, where cloud metadata services answer", ip.is_link_local),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not public", not ip.is_global),
    ):
        if applies:
            return kind
    return None


@dataclass(frozen=True)
class Pinned:
    """The request to make: the URL with the checked address in place of the name, and how to keep the name."""

    url: httpx.URL
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


class WebhookTargets:
    def __init__(self, allowed_hosts: Collection[str] = (), resolve: Resolve = resolve_host) -> None:
        self._allowed = {host.lower() for host in allowed_hosts}
        self._resolve = resolve

    async def refusal(self, url: str) -> str | None:
        """At registration: why the URL may not be a webhook, or None. A name that does not resolve yet passes
        here; it is checked again at every send."""
        try:
            await self.pin(httpx.URL(url))
        except TargetRefused as refused:
            return str(refused)
        except (OSError, httpx.InvalidURL):
            return None
        return None

    async def pin(self, url: httpx.URL) -> Pinned:
        """At a send: the checked address to post to; TargetRefused for an address inside, OSError when the name
        does not resolve (which may pass)."""
        host = url.host
        if host.lower() in self._allowed:
            return Pinned(url)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses, literal = [str(ipaddress.ip_address(host))], True
        except ValueError:
            addresses, literal = await self._resolve(host, port), False
        for address in addresses:
            why = inside(address)
            if why is not None:
                where = host if literal else f"{host} resolves to {address}, which"
                raise TargetRefused(f"{where} is {why}")
        if literal:
            return Pinned(url)
        extensions = {"sni_hostname": host} if url.scheme == "https" else {}
        return Pinned(url.copy_with(host=addresses[0]), {"Host": url.netloc.decode("ascii")}, extensions)


ANSWER_LIMIT_BYTES = 64 * 1024
"""The most of a webhook's answer the service reads: it needs the status, and for the subscription handshake a short
JSON echo. An endpoint that answers with more is not read further, so a hostile one cannot fill the memory."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    """The first ANSWER_LIMIT_BYTES of the body, as sent (the request asks for no content coding)."""
    cut: bool
    """The endpoint sent more than that."""


async def post(client: httpx.AsyncClient, target: Pinned, content: bytes, headers: Mapping[str, str]) -> Answer:
    """POST to a pinned target and read at most ANSWER_LIMIT_BYTES of its answer (httpx's `post` reads it whole).

    The whole exchange takes at most the client's read timeout: httpx bounds each read, so an endpoint that
    trickles a byte at a time would otherwise hold a worker for as many timeouts as it sends bytes."""
    sent = {**target.headers, "Accept-Encoding": "identity", **headers}
    within = client.timeout.read
    try:
        async with asyncio.timeout(within):
            return await _read_answer(client, target, content, sent)
    except TimeoutError:
        raise httpx.ReadTimeout(f"no whole answer within {within} s") from None


async def _read_answer(client: httpx.AsyncClient, target: Pinned, content: bytes, headers: dict[str, str]) -> Answer:
    request = client.stream("POST", target.url, content=content, headers=headers, extensions=target.extensions)
    async with request as response:
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > ANSWER_LIMIT_BYTES:
                return Answer(response.status_code, bytes(body[:ANSWER_LIMIT_BYTES]), cut=True)
        return Answer(response.status_code, bytes(body), cut=False)
