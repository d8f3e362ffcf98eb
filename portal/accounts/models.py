"""Organisations, departments, users and API tokens."""

from datetime import datetime
from datetime import timezone

from peewee import BooleanField
from peewee import CharField
from peewee import ForeignKeyField
from peewee import IntegerField

from portal.db import BaseModel
from portal.db import UTCDateTimeField

ROLES = ("admin", "hospital_it", "reporter", "engineer", "manager")
ORG_KINDS = ("hospital", "vendor")


def utcnow():
    """Return the current time, aware, in UTC (stored as UTC everywhere)."""
    return datetime.now(timezone.utc)


class Organization(BaseModel):
    name = CharField(max_length=200, unique=True)
    kind = CharField(max_length=20, choices=[(k, k) for k in ORG_KINDS])
    created_at = UTCDateTimeField(default=utcnow)

    def __str__(self):
        return self.name


class Department(BaseModel):
    organization = ForeignKeyField(Organization, backref="departments", on_delete="CASCADE")
    name = CharField(max_length=200)
    phone = CharField(max_length=50, default="")

    class Meta:
        indexes = ((("organization", "name"), True),)

    def __str__(self):
        return self.name


def user_label(display_name, username):
    """How pages name a user: the display name, else the username."""
    return display_name or username


class User(BaseModel):
    username = CharField(max_length=150, unique=True)
    display_name = CharField(max_length=200, default="")
    password_hash = CharField(max_length=255)
    role = CharField(max_length=20, choices=[(r, r) for r in ROLES], index=True)
    organization = ForeignKeyField(Organization, backref="users", on_delete="RESTRICT")
    department = ForeignKeyField(Department, null=True, backref="users", on_delete="SET NULL")
    phone = CharField(max_length=50, default="")
    email = CharField(max_length=254, default="")
    active = BooleanField(default=True)
    locale = CharField(max_length=10, default="")
    failed_logins = IntegerField(default=0)
    locked_until = UTCDateTimeField(null=True)
    # Bumped on log-out and password change: every cookie carrying an older value stops working.
    session_version = IntegerField(default=1)
    last_login_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    def __str__(self):
        return user_label(self.display_name, self.username)

    # flask-login's user protocol
    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    @property
    def is_anonymous(self):
        return False

    def get_id(self):
        return str(self.id)


class ApiToken(BaseModel):
    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    name = CharField(max_length=100, default="")
    prefix = CharField(max_length=12, index=True)
    token_hash = CharField(max_length=64, unique=True)
    created_at = UTCDateTimeField(default=utcnow)
    last_used_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)
