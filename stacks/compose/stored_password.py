"""Does a password match what PostgreSQL stored for its role? (``pg_authid.rolpassword``)

The data volume keeps the password it was initialised with; a compose deployment takes the
password from its .env. Checking the .env's password against the stored verifier tells, before
anything is deployed, whether the app will be able to log in. Pure: the caller reads the verifier.

Formats (PostgreSQL 10+): ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (RFC 5802
/ 7677, what the stacks use), ``md5<md5(password + user)>``, and a plain text password (very old
clusters).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

__all__ = ["UnknownVerifierError", "password_matches"]

_SCRAM = re.compile(r"SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)")
_MD5 = re.compile(r"md5[0-9a-f]{32}")


class UnknownVerifierError(ValueError):
    """The stored verifier has a format this module cannot check."""


def password_matches(stored: str, password: str, user: str) -> bool:
    """Whether ``password`` is the one ``stored`` (``rolpassword`` of role ``user``) was made from.

    Raises UnknownVerifierError for a SCRAM verifier that is malformed (bad base64, no iterations)
    or a format other than the three above; never for a wrong password.
    """
    scram = _SCRAM.fullmatch(stored)
    if scram is not None:
        return _scram_matches(scram, password)
    if stored.startswith("SCRAM-"):
        raise UnknownVerifierError(f"unreadable SCRAM verifier {stored.split('$', 1)[0]}$...")
    if _MD5.fullmatch(stored):
        digest = hashlib.md5((password + user).encode(), usedforsecurity=False).hexdigest()
        return hmac.compare_digest(stored, "md5" + digest)
    if stored.startswith("md5"):
        raise UnknownVerifierError("unreadable md5 verifier")
    return hmac.compare_digest(stored.encode(), password.encode())


def _scram_matches(match: re.Match[str], password: str) -> bool:
    iterations = int(match[1])
    if iterations < 1:
        raise UnknownVerifierError("SCRAM verifier with no iterations")
    try:
        salt, stored_key = (base64.b64decode(part, validate=True) for part in match.group(2, 3))
    except binascii.Error as error:
        raise UnknownVerifierError(f"SCRAM verifier with bad base64: {error}") from None
    # RFC 5802: SaltedPassword := Hi(password, salt, i); ClientKey := HMAC(SaltedPassword,
    # "Client Key"); StoredKey := H(ClientKey). PostgreSQL SASLprep-normalises the password
    # first; the stacks' generated secrets are ASCII, which SASLprep leaves as they are.
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)
