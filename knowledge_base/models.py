"""Knowledge-base tables: articles, their revisions, systems, links, votes, images, deflections.

Tags are a JSON list in ``Article.tags`` (they are only ever shown and indexed, never joined on).
The search index itself (an FTS5 table on SQLite, a tsvector table on PostgreSQL) is not a peewee
model: knowledge_base.search creates and maintains it.
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
from portal.db import BaseModel
from portal.db import UTCDateTimeField

from knowledge_base.files import MAX_SLUG_CHARS
from knowledge_base.files import MAX_SUMMARY_CHARS
from knowledge_base.files import MAX_TITLE_CHARS
from knowledge_base.files import STATUSES
from knowledge_base.files import VISIBILITIES

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class Article(BaseModel):
    # Small columns first: search joins every match to this table for the visibility columns, and
    # SQLite reads a row's columns in order (long text after them may sit on overflow pages).
    slug = CharField(max_length=MAX_SLUG_CHARS, unique=True)
    visibility = CharField(max_length=20, choices=[(v, v) for v in VISIBILITIES], default="internal")
    status = CharField(max_length=20, choices=[(s, s) for s in STATUSES], default="draft")
    # The vendor that owns the article; NULL = product-wide (shipped or written by an admin).
    vendor = ForeignKeyField(Organization, null=True, backref="+", on_delete="RESTRICT")
    revision = IntegerField(default=0)
    helpful_count = IntegerField(default=0)
    not_helpful_count = IntegerField(default=0)
    view_count = IntegerField(default=0)
    author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow, index=True)
    category = CharField(max_length=50, default="", index=True)
    title = CharField(max_length=MAX_TITLE_CHARS)
    summary = CharField(max_length=MAX_SUMMARY_CHARS, default="")
    tags = TextField(default="[]")  # JSON list of strings
    body_md = TextField(default="")
    # Derived from body_md on every save (render_plain): search snippets are cut from it.
    plain_text = TextField(default="")

    class Meta:
        table_name = "kb_article"
        indexes = ((("status", "visibility"), False),)

    def __str__(self):
        return self.title

    @property
    def tag_list(self):
        try:
            value = json.loads(self.tags or "[]")
        except ValueError:
            return []
        return [str(tag) for tag in value] if isinstance(value, list) else []

    @tag_list.setter
    def tag_list(self, tags):
        self.tags = json.dumps(list(tags), ensure_ascii=False)

    @property
    def system_names(self):
        return [row.name for row in self.systems.order_by(ArticleSystem.id)]


class ArticleRevision(BaseModel):
    article = ForeignKeyField(Article, backref="revisions", on_delete="CASCADE")
    number = IntegerField()
    title = CharField(max_length=MAX_TITLE_CHARS)
    body_md = TextField(default="")
    meta = TextField(default="{}")  # JSON: category, tags, systems, visibility, status, summary
    author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    author_name = CharField(max_length=200, default="")
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "kb_article_revision"
        indexes = ((("article", "number"), True),)

    @property
    def meta_dict(self):
        try:
            value = json.loads(self.meta or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class ArticleSystem(BaseModel):
    """A covered system the article is about, by name (contracts name their systems the same way)."""

    article = ForeignKeyField(Article, backref="systems", on_delete="CASCADE")
    name = CharField(max_length=200, index=True)

    class Meta:
        table_name = "kb_article_system"
        indexes = ((("article", "name"), True),)


class ArticleLink(BaseModel):
    """A link to ``article``: from another article (related reading) or from a ticket."""

    article = ForeignKeyField(Article, backref="incoming_links", on_delete="CASCADE")
    from_article = ForeignKeyField(Article, null=True, backref="outgoing_links", on_delete="CASCADE")
    ticket_id = IntegerField(null=True, index=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "kb_article_link"
        indexes = (
            (("from_article", "article"), True),
            (("ticket_id", "article"), True),
        )


class ArticleVote(BaseModel):
    article = ForeignKeyField(Article, backref="votes", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    helpful = BooleanField()
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "kb_article_vote"
        indexes = ((("article", "user"), True),)


class ArticleImage(BaseModel):
    """An uploaded picture, stored under instance/uploads/kb/ by a random name.

    ``article`` is NULL until an article that shows it is saved; until then only editors see it.
    """

    article = ForeignKeyField(Article, null=True, backref="images", on_delete="CASCADE")
    stored_name = CharField(max_length=64, unique=True)
    content_type = CharField(max_length=20, choices=[(t, t) for t in IMAGE_TYPES])
    size = IntegerField()
    original_name = CharField(max_length=200, default="")
    uploaded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "kb_article_image"


class Deflection(BaseModel):
    """A reporter said an article solved the problem they were about to file a ticket for."""

    article = ForeignKeyField(Article, backref="deflections", on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    organization = ForeignKeyField(Organization, null=True, backref="+", on_delete="SET NULL")
    query = CharField(max_length=500, default="")
    at = UTCDateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "kb_deflection"


class KbState(BaseModel):
    """Small key/value facts about the knowledge base, e.g. the dictionary the index was built with."""

    key = CharField(max_length=50, unique=True)
    value = CharField(max_length=200, default="")

    class Meta:
        table_name = "kb_state"


MODELS = (Article, ArticleRevision, ArticleSystem, ArticleLink, ArticleVote, ArticleImage, Deflection, KbState)
