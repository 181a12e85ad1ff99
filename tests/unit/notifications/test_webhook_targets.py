"""A webhook reaches only public addresses: never the service's own host, the private network or the cloud's
metadata service, also when a name resolves there only at the moment of sending; an operator may allow a host."""

from __future__ import annotations

import httpx
import pytest

from runtime.webhook_targets import WebhookTargets
from services.notifications.channels import Outgoing, Webhook

PUBLIC = "93.184.215.14"


def resolving_to(*addresses: str) -> WebhookTargets:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return WebhookTargets(resolve=resolve)


def outgoing(address: str) -> Outgoing:
    return Outgoing("n-1", "webhook", address, "s", "Emne", "Tekst", b'{"id":"e-1"}', 1700000000)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is loopback"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is link-local, where cloud metadata services"),
        ("http://10.0.0.7/hook", "10.0.0.7 is private"),
        ("http://192.168.1.1/hook", "192.168.1.1 is private"),
        ("http://[::1]/hook", "::1 is loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1 is loopback"),
        ("http://0.0.0.0/hook", "0.0.0.0 is unspecified"),
        ("http://100.100.100.200/hook", "100.100.100.200 is not public"),
    ],
)
async def test_a_subscription_to_an_address_inside_is_refused(url: str, why: str) -> None:
    refused = await resolving_to(PUBLIC).refusal(url)
    assert refused is not None
    assert refused.startswith(why)


async def test_a_name_resolving_to_an_address_inside_is_refused_saying_where_it_resolves() -> None:
    refused = await resolving_to(PUBLIC, "127.0.0.1").refusal("https://hooks.example/lhl")
    assert refused == "hooks.example resolves to 127.0.0.1, which is loopback"


async def test_a_public_name_passes_and_an_allowed_host_passes_although_it_is_loopback() -> None:
    assert await resolving_to(PUBLIC).refusal("https://hooks.example/lhl") is None
    assert await WebhookTargets(allowed_hosts=["127.0.0.1"]).refusal("http://127.0.0.1:9/hook") is None


async def test_a_name_that_turns_internal_after_registration_is_refused_at_send_without_a_request() -> None:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, stream=httpx.ByteStream(b""))

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        sent = await Webhook(client, resolving_to("169.254.169.254")).send(outgoing("https://hooks.example/lhl"))
    assert (sent.ok, sent.permanent) == (False, True)
    assert sent.error == (
        "webhook address refused: hooks.example resolves to 169.254.169.254, which is link-local, where cloud "
        "metadata services answer"
    )
    assert requests == []


async def test_the_request_goes_to_the_address_that_was_checked_with_the_name_kept_for_the_receiver() -> None:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(204, stream=httpx.ByteStream(b""))

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        sent = await Webhook(client, resolving_to(PUBLIC)).send(outgoing("https://hooks.example:8443/lhl"))
    assert sent.ok
    [request] = requests
    assert (request.url.host, request.url.port, request.url.path) == (PUBLIC, 8443, "/lhl")
    assert request.headers["host"] == "hooks.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.example"
