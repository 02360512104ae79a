"""Issue 13 items 2, 6, 8 and 18 over a real socket: sign-in bodies are bounded before they are
read, odd credentials answer like wrong ones, and a cross-site form cannot sign a browser in."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest

from reference_app.config import AppConfig
from reference_app.web.limits import RequestLimits
from tests.reference_app.conftest import PASSWORD, environ_for
from tests.reference_app.served import ServedApp, closed_by_server, read_response, served_app
from tests.servers.redis_nodes import RedisDeployment

SIGN_IN = "/api/auth/sign-in"


@pytest.fixture
async def app(redis_standalone: RedisDeployment, database_url: str) -> AsyncIterator[ServedApp]:
    redis_standalone.flush()
    config = AppConfig(sign_in_limit="100/minute")
    async with served_app(environ_for(redis_standalone, database_url), config) as served:
        await served.add_user()
        yield served


def _head(port: int, headers: dict[str, str], path: str = SIGN_IN) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
async def test_a_declared_huge_body_gets_413_before_it_is_sent(
    app: ServedApp, content_type: str
) -> None:
    async with app.raw() as (reader, writer):
        # 200 MB announced, not one byte of it sent: the answer must not wait for the body.
        writer.write(_head(app.port, {"Content-Type": content_type, "Content-Length": "200000000"}))
        await writer.drain()
        response = await read_response(reader, within=10)
        assert response.status == 413, response
        assert response.headers["content-type"] == "application/json"
        body = json.loads(response.body)
        assert body["error"] == "body_too_large"
        assert "4096 bytes" in body["detail"]
        assert response.headers.get("connection") == "close"
        assert await closed_by_server(reader, within=5)


async def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(app: ServedApp) -> None:
    """No Content-Length to trust: the body is counted while it streams."""
    sent = 0
    async with app.raw() as (reader, writer):
        writer.write(
            _head(app.port, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        )

        async def stream() -> None:
            nonlocal sent
            with contextlib.suppress(ConnectionError):
                for _ in range(1024):  # up to 1 MiB, then the end of the body
                    writer.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
                    await writer.drain()
                    sent += 1024
                    await asyncio.sleep(0.001)
                writer.write(b"0\r\n\r\n")
                await writer.drain()

        streaming = asyncio.create_task(stream())
        try:
            response = await read_response(reader, within=20)
        finally:
            streaming.cancel()
            await asyncio.gather(streaming, return_exceptions=True)
        assert response.status == 413, response
        assert json.loads(response.body)["error"] == "body_too_large"
        assert sent < 512 * 1024  # refused long before the client was done


async def test_oversized_attempts_still_count_against_the_rate_limit(
    redis_standalone: RedisDeployment, database_url: str
) -> None:
    redis_standalone.flush()
    config = AppConfig(sign_in_limit="3/minute")
    async with served_app(environ_for(redis_standalone, database_url), config) as app:
        await app.add_user()
        big = {"username": "alice", "password": "x" * 10_000}
        for _ in range(3):
            assert (await app.client.post(SIGN_IN, json=big)).status_code == 413
        assert (await app.sign_in()).status_code == 429


@pytest.mark.parametrize("username", ["alice", "nobody"], ids=["known-user", "unknown-user"])
async def test_a_lone_surrogate_password_answers_like_a_wrong_password(
    app: ServedApp, username: str
) -> None:
    body = b'{"username": "%s", "password": "\\ud800"}' % username.encode()
    response = await app.client.post(
        SIGN_IN, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_credentials"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"username": "ali\\u0000ce", "password": "pw"}', "application/json"),
        (b'{"username": "\\udc80", "password": "pw"}', "application/json"),
        (b"username=ali%00ce&password=pw", "application/x-www-form-urlencoded"),
        (b'{"username": "' + b"a" * 3000 + b'", "password": "pw"}', "application/json"),
    ],
    ids=["json-nul", "json-lone-surrogate", "form-nul", "very-long"],
)
async def test_a_username_that_cannot_exist_answers_like_an_unknown_one(
    app: ServedApp, content: bytes, content_type: str
) -> None:
    response = await app.client.post(
        SIGN_IN, content=content, headers={"content-type": content_type}
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_credentials"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},  # same host, another port: another origin
        {"Sec-Fetch-Site": "cross-site"},
    ],
    ids=["foreign-origin", "opaque-origin", "other-port", "sec-fetch-cross-site"],
)
async def test_a_cross_site_form_cannot_sign_a_browser_in(
    app: ServedApp, headers: dict[str, str]
) -> None:
    form = {"username": "alice", "password": PASSWORD}
    response = await app.client.post(SIGN_IN, data=form, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "cross_site_request"
    assert "set-cookie" not in response.headers
    assert (await app.client.get("/api/auth/me")).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [{}, {"Origin": "{base}"}, {"Sec-Fetch-Site": "same-origin", "Origin": "{base}"}],
    ids=["no-origin-curl", "same-origin", "same-origin-fetch-metadata"],
)
async def test_same_origin_and_non_browser_sign_in_still_work(
    app: ServedApp, headers: dict[str, str]
) -> None:
    headers = {name: value.format(base=app.base_url) for name, value in headers.items()}
    form = {"username": "alice", "password": PASSWORD}
    response = await app.client.post(SIGN_IN, data=form, headers=headers)
    assert response.status_code == 200, response.text
    assert (await app.client.get("/api/auth/me")).status_code == 200


async def test_limits_are_settings(redis_standalone: RedisDeployment, database_url: str) -> None:
    redis_standalone.flush()
    limits = RequestLimits(sign_in_bytes=64)
    async with served_app(environ_for(redis_standalone, database_url), limits=limits) as app:
        await app.add_user()
        padded = {"username": "alice", "password": PASSWORD, "pad": "x" * 64}
        response = await app.client.post(SIGN_IN, json=padded)
        assert response.status_code == 413
        assert "64 bytes" in response.json()["detail"]
        assert (await app.sign_in()).status_code == 200
