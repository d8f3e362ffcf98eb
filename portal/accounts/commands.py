"""What the create-user and create-token commands do, apart from the command line."""

from portal import audit
from portal.accounts.models import ROLES
from portal.accounts.models import ApiToken
from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.passwords import hash_password
from portal.accounts.passwords import new_token
from portal.accounts.passwords import password_problem
from portal.db import db
from portal.text import text_problem

HOSPITAL_ROLES = {"hospital_it", "reporter"}


def create_user(username, role, password, org_name=None, display_name=""):
    """Create a user, and its organisation when it does not exist; raise ValueError on bad input."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    for label, value, limit in (("username", username, 150), ("display name", display_name, 200)):
        problem = text_problem(value, limit, multiline=False)
        if problem or (label == "username" and not value.strip()):
            raise ValueError(f"{label}: {problem or 'must not be empty'}")
    if password_problem(password):
        raise ValueError("the password must have 8 to 256 characters")
    with db.atomic():
        if User.select().where(User.username == username).exists():
            raise ValueError(f"user {username!r} exists already")
        name = org_name or ("Hospital" if role in HOSPITAL_ROLES else "Vendor")
        org, _ = Organization.get_or_create(name=name, defaults={"kind": "hospital" if role in HOSPITAL_ROLES else "vendor"})
        user = User.create(username=username, role=role, organization=org, display_name=display_name,
                           password_hash=hash_password(password))
        audit.record("create", user, summary="weibao create-user")
    return user


def create_token(username, name="cli"):
    """Create an API token for *username* and return it (only its hash is stored)."""
    user = User.get_or_none(User.username == username)
    if user is None:
        raise ValueError(f"no user {username!r}")
    token, prefix, digest = new_token()
    with db.atomic():
        row = ApiToken.create(user=user, name=name[:100], prefix=prefix, token_hash=digest)
        audit.record("create", row, summary=f"API token {prefix}… for {username}", user=user)
    return token
