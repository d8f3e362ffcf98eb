"""Argon2id password hashing and API token hashing."""

import hashlib
import secrets

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app
from flask import has_app_context

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


@lru_cache(maxsize=8)
def _hasher(time_cost, memory_kib, parallelism):
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher():
    """Return the argon2id hasher configured for this app (the library's defaults outside one)."""
    if not has_app_context():
        return PasswordHasher()
    config = current_app.config
    return _hasher(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"], config["ARGON2_PARALLELISM"])


def hash_password(password):
    """Return the argon2id hash of *password*."""
    return hasher().hash(password)


def verify_password(password_hash, password):
    """Tell whether *password* matches; never raises for a malformed stored hash."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password):
    """Return a message key when *password* is unacceptable, else None."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    if "\x00" in password:
        return "invalid"
    return None


def new_token():
    """Return (token, prefix, sha256 hex) for a fresh API token; only the hash is stored."""
    token = "wb_" + secrets.token_urlsafe(32)
    return token, token[:10], token_digest(token)


def token_digest(token):
    """Return the stored form of a token (tokens are long and random, so SHA-256 suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
