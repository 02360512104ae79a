"""Sessions and rate limits through HTTP, in every Redis mode."""

from __future__ import annotations

from app_support.redis import RedisSettings, create_async_client
from reference_app.config import AppConfig
from tests.reference_app.conftest import running_app, sales_csv
from tests.servers.redis_nodes import RedisDeployment


async def test_session_lifecycle(app_environ: dict[str, str], redis_any: RedisDeployment) -> None:
    async with running_app(app_environ, AppConfig(session_ttl=600)) as app:
        await app.add_user()
        assert (await app.client.get("/api/auth/me")).status_code == 401
        wrong = await app.sign_in(password="nope")
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_credentials"
        assert (await app.sign_in(username="mallory")).status_code == 401
        assert (await app.client.post("/api/auth/sign-in", content=b"{")).status_code == 400

        signed_in = await app.sign_in()
        assert signed_in.status_code == 200
        cookie = signed_in.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "Max-Age=600" in cookie
        session_id = app.client.cookies["session"]
        me = await app.client.get("/api/auth/me")
        assert me.json()["user"]["username"] == "alice"

        redis = create_async_client(RedisSettings.from_env(redis_any.environ))
        try:
            assert 0 < await redis.ttl(f"session:{session_id}") <= 600
            assert (await app.client.post("/api/auth/sign-out")).status_code == 204
            assert await redis.exists(f"session:{session_id}") == 0
        finally:
            await redis.aclose()
        # The old cookie is worthless once the session is gone from Redis.
        app.client.cookies.set("session", session_id)
        assert (await app.client.get("/api/auth/me")).status_code == 401
        upload = await app.client.post(
            "/api/imports", content=b"x", headers={"content-type": "text/csv"}
        )
        assert upload.status_code == 401


async def test_sign_in_and_uploads_are_rate_limited(app_environ: dict[str, str]) -> None:
    config = AppConfig(sign_in_limit="3/minute", upload_limit="2/minute")
    async with running_app(app_environ, config) as app:
        await app.add_user()
        for _ in range(3):
            assert (await app.sign_in(password="guess")).status_code == 401
        limited = await app.sign_in()  # even the right password waits: every attempt counts
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["error"] == "rate_limited"

    # A new app on the same Redis shares the limit: it is per client, not per process.
    async with running_app(app_environ, config) as app:
        assert (await app.sign_in()).status_code == 429

    async with running_app(app_environ, AppConfig(upload_limit="2/minute")) as app:
        assert (await app.sign_in()).status_code == 200
        for _ in range(2):
            ok = await app.client.post(
                "/api/imports", files={"file": ("s.csv", sales_csv(3), "text/csv")}
            )
            assert ok.status_code == 202
        limited = await app.client.post(
            "/api/imports", files={"file": ("s.csv", sales_csv(3), "text/csv")}
        )
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert await app.query("SELECT count(*) FROM imports") == [(2,)]
