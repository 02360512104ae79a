"""Password hashing with the standard library's scrypt (no extra dependency).

A stored hash is self-describing: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``, so the cost can be
raised later without invalidating existing hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["hash_password", "verify_password"]

_N, _R, _P = 2**14, 8, 1
_SALT_BYTES, _HASH_BYTES = 16, 32
# Verifying against this when the user does not exist keeps sign-in time independent of whether
# the name is known.
_DUMMY_SALT = b"\x00" * _SALT_BYTES


def _secret(password: str) -> tuple[bytes, bool]:
    """The password's bytes, and whether it is text at all: a lone surrogate (``"\ud800"`` from
    a JSON escape) has no UTF-8 form. Such a password is hashed all the same (so it costs what a
    wrong password costs) and never matches."""
    try:
        return password.encode(), True
    except UnicodeEncodeError:
        return password.encode("utf-8", "surrogatepass"), False


def _scrypt(secret: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=_HASH_BYTES)


def hash_password(password: str) -> str:
    """Hash a password with a fresh salt. Raises ValueError for an empty password."""
    if not password:
        raise ValueError("password must not be empty")
    secret, is_text = _secret(password)
    if not is_text:
        raise ValueError("password must be text (it holds a lone surrogate)")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, _N, _R, _P)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${_N}${_R}${_P}${encoded[0]}${encoded[1]}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches ``stored``; ``None`` (unknown user) costs the same and fails.

    A malformed stored hash, or a password that is not text, is a mismatch, never an error.
    """
    secret, is_text = _secret(password)
    if stored is None:
        _scrypt(secret, _DUMMY_SALT, _N, _R, _P)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(secret, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(actual, base64.b64decode(digest)) and is_text
    except ValueError:
        return False
