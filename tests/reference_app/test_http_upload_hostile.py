"""Issue 13 items 3, 6, 16 and 17 over a real socket: hostile CSVs and multipart bodies get a
bounded 4xx in the JSON error shape, and a retried upload with the same Idempotency-Key is
imported once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from reference_app.config import AppConfig
from tests.reference_app.conftest import HEADER, environ_for, sales_csv
from tests.reference_app.served import ServedApp, served_app
from tests.servers.redis_nodes import RedisDeployment

BOUND = 1000  # characters: the longest detail or reason any upload may produce


@pytest.fixture
async def app(redis_standalone: RedisDeployment, database_url: str) -> AsyncIterator[ServedApp]:
    redis_standalone.flush()
    config = AppConfig(upload_limit="1000/minute")
    async with served_app(environ_for(redis_standalone, database_url), config) as served:
        await served.add_user()
        assert (await served.sign_in()).status_code == 200
        yield served


async def _raw_upload(app: ServedApp, data: bytes, **params: str) -> httpx.Response:
    return await app.client.post(
        "/api/imports", content=data, params=params, headers={"content-type": "text/csv"}
    )


async def _refused(app: ServedApp, response: httpx.Response, status: int, code: str) -> str:
    """Check the JSON error shape and the failed import it was recorded as; returns the detail."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == code, body
    assert len(body["detail"]) <= BOUND
    record = (await app.client.get(f"/api/imports/{body['import_id']}")).json()
    assert record["state"] == "failed"
    assert record["reason"] == body["detail"]
    return str(body["detail"])


async def test_a_huge_header_is_refused_without_being_split_or_echoed(app: ServedApp) -> None:
    wide = b",".join([b"a"] * 5_000_000) + b"\n"  # 10 MB, 5 million one-letter columns
    response = await _raw_upload(app, wide, filename="wide.csv")
    detail = await _refused(app, response, 422, "line_too_long")
    assert detail.startswith("line 1:")
    assert len(response.content) < 2000
    reasons = await app.query("SELECT max(length(reason)) FROM imports")
    assert reasons[0][0] <= BOUND
    listing = await app.client.get("/api/imports")
    assert len(listing.content) < 5000


@pytest.mark.parametrize(
    ("data", "code", "where"),
    [
        (sales_csv(2) + b"2026-01-05,emea," + b"w" * 1_000_000 + b",1,1.00\n", "line_too_long",
         "line 4:"),
        (b"date,region,product,quantity,unit_price," + b"x" * 200 + b"\n2026-01-01,a,b,1,1\n",
         "invalid_header", "line 1:"),
        (sales_csv(2) + b'2026-01-05,"emea\n' * 1 + b'more",widget,1,1.00\n', "malformed_csv",
         "line 4:"),
        (sales_csv(2) + b"2026-01-05,emea," + b"w" * 150 + b",1,1.00\n", "invalid_value",
         "line 4, column 'product'"),
        (sales_csv(2) + b"2026-01-05," + b"9" * 3000 + b",widget,1,1.00\n", "invalid_value",
         "line 4, column 'region'"),
    ],
    ids=["long-line", "long-header", "line-break-in-field", "long-product", "long-region"],
)  # fmt: skip
async def test_every_echoed_value_is_bounded(
    app: ServedApp, data: bytes, code: str, where: str
) -> None:
    detail = await _refused(app, await _raw_upload(app, data), 422, code)
    assert detail.startswith(where), detail
    assert len(detail) <= 300, detail


@pytest.mark.parametrize(
    "data",
    [
        sales_csv(2) + b"2026-01-05,em\x00ea,widget,1,1.00\n",
        sales_csv(2) + b'2026-01-05,emea,"wid\x00get",1,1.00\n',
    ],
    ids=["plain-field", "quoted-field"],
)
async def test_a_nul_byte_in_a_field_is_refused_at_upload(app: ServedApp, data: bytes) -> None:
    detail = await _refused(app, await _raw_upload(app, data), 422, "invalid_value")
    assert detail.startswith("line 4, column "), detail
    assert "control character" in detail
    assert await app.query("SELECT count(*) FROM imports WHERE state <> 'failed'") == [(0,)]


@pytest.mark.parametrize(
    "filename",
    ["sales\x00.csv", "a" * 60_000, "line\nbreak.csv", "\udc80.csv"],
    ids=["nul", "60k", "control-character", "lone-surrogate"],
)
async def test_an_unusable_filename_gets_400_in_the_json_shape(
    app: ServedApp, filename: str
) -> None:
    raw = await app.client.post(
        "/api/imports", content=sales_csv(2), headers={"content-type": "text/csv"},
        params={"filename": filename.encode("utf-8", "surrogateescape").decode("latin-1")},
    )  # fmt: skip
    await _refused(app, raw, 400, "invalid_filename")


def _multipart(boundary: str, parts: list[tuple[str, str, bytes]]) -> bytes:
    out = b""
    for name, filename, data in parts:
        out += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    return out + f"--{boundary}--\r\n".encode()


MULTIPART_CASES = [
    pytest.param(
        "multipart/form-data; boundary=XyZ",
        _multipart("XyZ", [("file", "a.csv", sales_csv(1)), ("file", "b.csv", sales_csv(1))]),
        "malformed_multipart", id="two-files"),
    pytest.param("multipart/form-data", _multipart("XyZ", [("file", "a.csv", sales_csv(1))]),
                 "malformed_multipart", id="no-boundary"),
    pytest.param("multipart/form-data; boundary=XyZ", b"\x00garbage\xff" * 100,
                 "malformed_multipart", id="garbage"),
    # The multipart parser refuses a part header this long itself.
    pytest.param("multipart/form-data; boundary=XyZ",
                 _multipart("XyZ", [("file", "a" * 60_000 + ".csv", sales_csv(1))]),
                 "malformed_multipart", id="60k-filename"),
    pytest.param("multipart/form-data; boundary=XyZ",
                 _multipart("XyZ", [("file", "a" * 300 + ".csv", sales_csv(1))]),
                 "invalid_filename", id="300-character-filename"),
]  # fmt: skip


@pytest.mark.parametrize(("content_type", "body", "code"), MULTIPART_CASES)
async def test_multipart_errors_answer_the_json_shape_with_an_import_id(
    app: ServedApp, content_type: str, body: bytes, code: str
) -> None:
    response = await app.client.post(
        "/api/imports", content=body, headers={"content-type": content_type}
    )
    await _refused(app, response, 400, code)


async def _keyed(app: ServedApp, key: str, data: bytes, client: Any = None) -> httpx.Response:
    return await (client or app.client).post(
        "/api/imports",
        files={"file": ("s.csv", data, "text/csv")},
        headers={"Idempotency-Key": key},
    )


async def test_a_retried_upload_with_the_same_idempotency_key_is_imported_once(
    app: ServedApp,
) -> None:
    data = sales_csv(5)
    first = await _keyed(app, "retry-1", data)
    assert first.status_code == 202, first.text
    import_id = first.json()["import_id"]
    for _ in range(3):
        again = await _keyed(app, "retry-1", data)
        assert again.status_code == 200, again.text
        assert again.json()["import_id"] == import_id
        assert again.json()["replayed"] is True
    other = await _keyed(app, "retry-2", data)
    assert other.status_code == 202
    assert other.json()["import_id"] != import_id
    unkeyed = await app.client.post("/api/imports", files={"file": ("s.csv", data, "text/csv")})
    assert unkeyed.status_code == 202
    rows = await app.query("SELECT count(*) FROM imports WHERE state <> 'failed'")
    assert rows == [(3,)]
    stored = await app.query(
        "SELECT idempotency_key FROM imports WHERE id = %s", first.json()["import_id"]
    )
    assert stored == [("retry-1",)]


async def test_an_idempotency_key_is_per_user_and_bound_to_its_file(app: ServedApp) -> None:
    data = sales_csv(5)
    first = await _keyed(app, "k", data)
    assert first.status_code == 202
    reused = await _keyed(app, "k", sales_csv(6))
    assert reused.status_code == 409
    assert reused.json()["error"] == "idempotency_key_reused"
    await app.add_user("bob")
    async with httpx.AsyncClient(base_url=app.base_url) as bob:
        signed = await bob.post(
            "/api/auth/sign-in",
            json={"username": "bob", "password": "correct horse battery staple"},
        )
        assert signed.status_code == 200
        theirs = await _keyed(app, "k", data, client=bob)
        assert theirs.status_code == 202, theirs.text
        assert theirs.json()["import_id"] != first.json()["import_id"]


@pytest.mark.parametrize(
    "key", ["", "x" * 300, "bad\x01key", "caf\u00e9"], ids=["empty", "long", "control", "non-ascii"]
)
async def test_a_malformed_idempotency_key_is_refused(app: ServedApp, key: str) -> None:
    response = await app.client.post(
        "/api/imports",
        files={"file": ("s.csv", sales_csv(1), "text/csv")},
        headers=[(b"Idempotency-Key", key.encode("utf-8"))],
    )
    await _refused(app, response, 400, "invalid_idempotency_key")


async def test_the_header_only_csv_still_gets_the_usual_answer(app: ServedApp) -> None:
    detail = await _refused(app, await _raw_upload(app, HEADER.encode()), 422, "no_rows")
    assert json.dumps(detail)
