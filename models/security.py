"""Salted PBKDF2-SHA256 hashes for till passwords and staff PINs.

The format is the one the ShopV2 contract uses for PINs:
`pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ITERATIONS = 100_000


def hash_secret(secret: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(8)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when `secret` matches the stored hash; False for any malformed hash."""
    try:
        algorithm, iterations, salt_hex, digest_hex = stored.split("$")
        if algorithm != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha256", secret.encode(), bytes.fromhex(salt_hex), int(iterations)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def new_password() -> str:
    """A password a person can type from a printout: 16 URL-safe characters."""
    return secrets.token_urlsafe(12)
