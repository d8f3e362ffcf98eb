"""Stored form types, their immutable published versions, submissions, their events and files.

JSON columns are TextFields holding ``json.dumps`` output, the same on SQLite and PostgreSQL.
A published (or retired) FormVersion never changes its content: ``save()`` refuses it.
"""

import json

from peewee import BooleanField
from peewee import CharField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.contracts.models import Contract
from portal.db import BaseModel
from portal.db import UTCDateTimeField

VERSION_STATUSES = ("draft", "published", "retired")
IMMUTABLE_FIELDS = ("form_type", "version", "source_yaml", "compiled_json", "checksum")


class ImmutableVersion(Exception):
    """Something tried to change a published form version."""


def dumps(value):
    """JSON text for a JSON column (UTF-8 kept readable)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


class FormType(BaseModel):
    key = CharField(max_length=63, unique=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    def __str__(self):
        return self.key


class FormVersion(BaseModel):
    form_type = ForeignKeyField(FormType, backref="versions", on_delete="RESTRICT")
    version = IntegerField()
    source_yaml = TextField()
    compiled_json = TextField()
    checksum = CharField(max_length=64)
    status = CharField(max_length=12, choices=[(s, s) for s in VERSION_STATUSES], default="draft",
                       index=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    published_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    published_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("form_type", "version"), True),)

    @property
    def compiled(self):
        cache = self.__dict__.get("_compiled_cache")
        if cache is None or cache[0] != self.compiled_json:
            cache = (self.compiled_json, json.loads(self.compiled_json))
            self.__dict__["_compiled_cache"] = cache
        return cache[1]

    def save(self, *args, **kwargs):
        """Refuse to change the content of a published or retired version (status may move on)."""
        if self.id is not None:
            stored = FormVersion.get_or_none(FormVersion.id == self.id)
            if stored is not None and stored.status != "draft":
                changed = [name for name in IMMUTABLE_FIELDS
                           if getattr(stored, name + ("_id" if name == "form_type" else ""))
                           != getattr(self, name + ("_id" if name == "form_type" else ""))]
                if changed or self.status == "draft":
                    raise ImmutableVersion(
                        f"version {stored.version} of form type {stored.form_type_id} is "
                        f"{stored.status}; it cannot change ({', '.join(changed) or 'status'})")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        if self.status != "draft":
            raise ImmutableVersion("a published version cannot be deleted")
        return super().delete_instance(*args, **kwargs)

    def __str__(self):
        return f"{self.form_type_id} v{self.version}"


class FormSequence(BaseModel):
    """The last submission number handed out per (form type, year)."""

    form_type = ForeignKeyField(FormType, backref="+", on_delete="CASCADE")
    year = IntegerField()
    last = IntegerField(default=0)

    class Meta:
        indexes = ((("form_type", "year"), True),)


class FormSubmission(BaseModel):
    version = ForeignKeyField(FormVersion, backref="submissions", on_delete="RESTRICT")
    form_type = ForeignKeyField(FormType, backref="submissions", on_delete="RESTRICT")
    number = CharField(max_length=80, unique=True)
    ticket_id = IntegerField(null=True, index=True)  # tickets are optional; no FK
    contract = ForeignKeyField(Contract, null=True, backref="+", on_delete="RESTRICT")
    hospital = ForeignKeyField(Organization, null=True, backref="+", on_delete="RESTRICT")
    vendor = ForeignKeyField(Organization, null=True, backref="+", on_delete="RESTRICT")
    data_json = TextField(default="{}")
    computed_json = TextField(default="{}")
    state = CharField(max_length=63, index=True)
    is_draft = BooleanField(default=False)
    submitted_at = UTCDateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow, index=True)
    updated_at = UTCDateTimeField(default=utcnow)

    @property
    def data(self):
        return json.loads(self.data_json or "{}")

    @property
    def computed(self):
        return json.loads(self.computed_json or "{}")

    def __str__(self):
        return self.number


class SubmissionEvent(BaseModel):
    submission = ForeignKeyField(FormSubmission, backref="events", on_delete="CASCADE")
    kind = CharField(max_length=20)  # created | edited | transition
    action = CharField(max_length=63, default="")
    from_state = CharField(max_length=63, default="")
    to_state = CharField(max_length=63, default="")
    comment = TextField(default="")
    data_before = TextField(default="")
    data_after = TextField(default="")
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    at = UTCDateTimeField(default=utcnow)


class StoredFile(BaseModel):
    name = CharField(max_length=64, unique=True)  # random; the file on disk
    original_name = CharField(max_length=255, default="")  # display only
    content_type = CharField(max_length=100)  # sniffed from the bytes
    size = IntegerField()
    sha256 = CharField(max_length=64)
    is_signature = BooleanField(default=False)
    submission = ForeignKeyField(FormSubmission, null=True, backref="files", on_delete="SET NULL")
    uploaded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    uploaded_at = UTCDateTimeField(default=utcnow)

    def ref(self):
        """The stored-file reference a submission's data holds."""
        return {"id": self.name, "name": self.original_name or self.name, "size": self.size,
                "content_type": self.content_type, "sha256": self.sha256}


class ActionRun(BaseModel):
    """One after-commit action that ran for a submission; the unique key makes retries no-ops."""

    submission = ForeignKeyField(FormSubmission, backref="+", on_delete="CASCADE")
    key = CharField(max_length=200)
    action = CharField(max_length=100)
    result = TextField(default="")
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("submission", "key"), True),)


MODELS = (FormType, FormVersion, FormSequence, FormSubmission, SubmissionEvent, StoredFile,
          ActionRun)
