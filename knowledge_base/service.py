"""Every knowledge-base write: one transaction each, audited, with the search index kept in step.

Pages, the API, the admin, the importer and the demo all go through these functions, so an
article never exists without its revision, its systems and its index row.
"""

import importlib.util
import json
import re
from dataclasses import dataclass
from dataclasses import field

from flask_babel import gettext as _
from peewee import IntegrityError

from portal import audit
from portal.accounts.models import utcnow
from portal.db import db
from portal.text import text_problem

from knowledge_base import search
from knowledge_base.files import MAX_LABEL_CHARS
from knowledge_base.files import MAX_LIST_ITEMS
from knowledge_base.files import MAX_SLUG_CHARS
from knowledge_base.files import MAX_SUMMARY_CHARS
from knowledge_base.files import MAX_TITLE_CHARS
from knowledge_base.files import SLUG_RE
from knowledge_base.files import STATUSES
from knowledge_base.files import VISIBILITIES
from knowledge_base.files import ArticleFileError
from knowledge_base.files import has_control_characters
from knowledge_base.files import slugify
from knowledge_base.files import unique_slug
from knowledge_base.files import validate_meta
from knowledge_base.models import Article
from knowledge_base.models import ArticleImage
from knowledge_base.models import ArticleLink
from knowledge_base.models import ArticleRevision
from knowledge_base.models import ArticleSystem
from knowledge_base.models import ArticleVote
from knowledge_base.models import Deflection
from knowledge_base.render import MAX_SOURCE_BYTES
from knowledge_base.render import render_plain

META_FIELDS = ("title", "slug", "category", "tags", "systems", "visibility", "status", "summary")
IMAGE_REF_RE = re.compile(r"/kb/images/([0-9a-f]{32}\.(?:png|jpg|gif|webp))")
MAX_QUERY_CHARS = 500
#: Slugs that would collide with the knowledge base's own page addresses.
RESERVED_SLUGS = frozenset({"new", "preview", "suggest", "images", "static"})


class ArticleProblem(Exception):
    """Input that cannot be saved: ``details`` is [(field, message)], ``status`` 422 or 409."""

    def __init__(self, details, status=422):
        self.details = list(details)
        self.status = status
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.details))


# --- reading -------------------------------------------------------------------------------------


def article_meta(article):
    """Return the front-matter dict of a saved article (the shape files.validate_meta returns)."""
    return {
        "title": article.title,
        "slug": article.slug,
        "category": article.category,
        "tags": article.tag_list,
        "systems": article.system_names,
        "visibility": article.visibility,
        "status": article.status,
        "summary": article.summary,
    }


def get_visible(slug, user):
    """Return the article *user* may see by *slug*, or None (also for malformed slugs)."""
    if not isinstance(slug, str) or len(slug) > MAX_SLUG_CHARS or not SLUG_RE.match(slug):
        return None
    return search.visible_articles(user).where(Article.slug == slug).first()


def may_edit(user, article=None):
    """Editors: engineers and managers of a vendor (their vendor's and product-wide articles), admins."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if user.role == "admin":
        return True
    if user.role not in ("engineer", "manager") or user.organization.kind != "vendor":
        return False
    return article is None or article.vendor_id in (None, user.organization_id)


def linked_articles(article, user):
    """Articles this one links to that *user* may also see."""
    return list(
        search.visible_articles(user)
        .join(ArticleLink, on=(ArticleLink.article == Article.id))
        .where(ArticleLink.from_article == article.id)
        .order_by(Article.title)
    )


def linking_articles(article, user):
    """Articles that link to this one and that *user* may see."""
    return list(
        search.visible_articles(user)
        .join(ArticleLink, on=(ArticleLink.from_article == Article.id))
        .where(ArticleLink.article == article.id)
        .order_by(Article.title)
    )


# --- checking input ------------------------------------------------------------------------------


def _label_list(name, value, details):
    if not isinstance(value, list):
        details.append((name, _("must be a list of strings")))
        return []
    if len(value) > MAX_LIST_ITEMS:
        details.append((name, _("must have at most %(n)d items", n=MAX_LIST_ITEMS)))
    labels = []
    for index, item in enumerate(value):
        path = f"{name}[{index}]"
        if not isinstance(item, str) or not item.strip():
            details.append((path, _("must be a non-empty string")))
        elif text_problem(item, MAX_LABEL_CHARS, multiline=False) or has_control_characters(item):
            details.append((path, text_problem(item, MAX_LABEL_CHARS, multiline=False)
                            or _("must be one line without control characters")))
        elif item.strip() not in labels:
            labels.append(item.strip())
    return labels


def _one_line(name, value, limit, details, required=False):
    if value is None:
        value = ""
    if not isinstance(value, str):
        details.append((name, _("must be a string")))
        return ""
    message = text_problem(value, limit, multiline=False)
    if message is None and has_control_characters(value):
        message = _("must be one line without control characters")
    if message is None and required and not value.strip():
        message = _("must not be empty")
    if message:
        details.append((name, message))
    return value.strip()


def check_input(data, partial=False):
    """Check article fields (any subset when *partial*); return them cleaned or raise ArticleProblem."""
    details = []
    cleaned = {}
    if not partial or "title" in data:
        cleaned["title"] = _one_line("title", data.get("title"), MAX_TITLE_CHARS, details, required=True)
    if data.get("slug") not in (None, ""):
        slug = data["slug"]
        if not isinstance(slug, str) or len(slug) > MAX_SLUG_CHARS or not SLUG_RE.match(slug):
            details.append(("slug", _("use lower-case letters, digits and single hyphens (at most %(n)d)",
                                      n=MAX_SLUG_CHARS)))
        elif slug in RESERVED_SLUGS:
            details.append(("slug", _("this address is reserved; choose another")))
        else:
            cleaned["slug"] = slug
    for name, limit in (("category", MAX_LABEL_CHARS), ("summary", MAX_SUMMARY_CHARS)):
        if not partial or name in data:
            cleaned[name] = _one_line(name, data.get(name), limit, details)
    for name in ("tags", "systems"):
        if not partial or name in data:
            cleaned[name] = _label_list(name, data.get(name) if data.get(name) is not None else [], details)
    for name, choices, default in (("visibility", VISIBILITIES, "internal"), ("status", STATUSES, "draft")):
        if not partial or name in data:
            value = data.get(name) or default
            if value not in choices:
                details.append((name, _("must be one of: %(choices)s", choices=", ".join(choices))))
            cleaned[name] = value
    if not partial or "body_md" in data:
        body = data.get("body_md") if data.get("body_md") is not None else ""
        message = text_problem(body, None, multiline=True)
        if message is None and len(body.encode("utf-8")) > MAX_SOURCE_BYTES:
            message = _("is larger than %(n)d KB", n=MAX_SOURCE_BYTES // 1024)
        if message:
            details.append(("body_md", message))
        else:
            cleaned["body_md"] = normalise_body(body)
    if details:
        raise ArticleProblem(details)
    return cleaned


def normalise_body(body):
    """Unix line ends and no leading blank lines: what an article file round-trips to."""
    return body.replace("\r\n", "\n").replace("\r", "\n").lstrip("\n")


# --- writing -------------------------------------------------------------------------------------


@dataclass
class SaveResult:
    article: Article
    outcome: str  # created | updated | unchanged


def _slug_taken(slug, except_id=None):
    if slug in RESERVED_SLUGS:
        return True
    query = Article.select().where(Article.slug == slug)
    if except_id is not None:
        query = query.where(Article.id != except_id)
    return query.exists()


def save_article(data, user=None, article=None, vendor_id=None, related=None, ticket_id=None):
    """Create (article None) or update an article from checked fields; one audited transaction.

    *data* holds the article fields (title, slug, category, tags, systems, visibility, status,
    summary, body_md); on update, missing fields keep their value. A new revision is written
    only when something changed. *related* (slugs) replaces the article's outgoing links;
    *ticket_id* links the article to the ticket it was written from.
    """
    data = check_input(data, partial=article is not None)
    current = article_meta(article) if article is not None else {}
    meta = {key: data.get(key, current.get(key)) for key in META_FIELDS}
    body = data.get("body_md", article.body_md if article is not None else "")
    if article is not None:
        if data.get("slug") not in (None, article.slug):
            raise ArticleProblem([("slug", _("the slug of an existing article cannot change"))])
        meta["slug"] = article.slug
    try:
        meta = validate_meta({key: value for key, value in meta.items() if value is not None})
    except ArticleFileError as error:
        raise ArticleProblem([("meta", message) for message in error.errors]) from None
    try:
        plain = render_plain(body)
    except ValueError as error:
        raise ArticleProblem([("body_md", str(error))]) from None
    try:
        with db.atomic():
            if article is None:
                result = _create(meta, body, plain, user, vendor_id, explicit_slug="slug" in data)
            else:
                result = _update(article, meta, body, plain, user)
            if related is not None:
                _set_related(result.article, related, user)
            if ticket_id is not None:
                link_ticket(result.article, ticket_id, user)
    except IntegrityError:
        raise ArticleProblem([("slug", _("an article with this slug exists already"))], status=409) from None
    return result


def _create(meta, body, plain, user, vendor_id, explicit_slug):
    slug = meta["slug"]
    if _slug_taken(slug):
        if explicit_slug:
            raise ArticleProblem([("slug", _("an article with this slug exists already"))], status=409)
        slug = unique_slug(slug, _slug_taken)
    now = utcnow()
    article = Article(
        slug=slug, title=meta["title"], summary=meta["summary"], body_md=body, plain_text=plain,
        category=meta["category"], visibility=meta["visibility"], status=meta["status"],
        vendor=vendor_id, author=_user_id(user), created_at=now, updated_at=now, revision=1,
    )
    article.tag_list = meta["tags"]
    article.save(force_insert=True)
    _set_systems(article, meta["systems"])
    meta["slug"] = slug
    _write_revision(article, meta, body, user)
    _attach_images(article, body)
    search.index_article(article)
    audit.record("create", article, summary=f"kb {slug}", user=user,
                 changes=audit.model_changes({}, {**meta, "body_md": body}))
    return SaveResult(article, "created")


def _update(article, meta, body, plain, user):
    before = {**article_meta(article), "body_md": article.body_md}
    after = {**meta, "body_md": body}
    if before == after:
        return SaveResult(article, "unchanged")
    article.title = meta["title"]
    article.summary = meta["summary"]
    article.body_md = body
    article.plain_text = plain
    article.category = meta["category"]
    article.tag_list = meta["tags"]
    article.visibility = meta["visibility"]
    article.status = meta["status"]
    article.updated_at = utcnow()
    article.revision = (article.revision or 0) + 1
    article.save()
    _set_systems(article, meta["systems"])
    _write_revision(article, meta, body, user)
    _attach_images(article, body)
    search.index_article(article)
    audit.record("update", article, summary=f"kb {article.slug} r{article.revision}", user=user,
                 changes=audit.model_changes(before, after))
    return SaveResult(article, "updated")


def _user_id(user):
    return user.id if user is not None and getattr(user, "is_authenticated", False) else None


def _set_systems(article, names):
    ArticleSystem.delete().where(ArticleSystem.article == article.id).execute()
    for name in names:
        ArticleSystem.create(article=article.id, name=name)


def _write_revision(article, meta, body, user):
    extra = {key: meta[key] for key in ("category", "tags", "systems", "visibility", "status", "summary")}
    ArticleRevision.create(
        article=article.id, number=article.revision, title=meta["title"], body_md=body,
        meta=json.dumps(extra, ensure_ascii=False), author=_user_id(user),
        author_name=(str(user) if _user_id(user) else "")[:200], at=article.updated_at,
    )


def _attach_images(article, body):
    names = set(IMAGE_REF_RE.findall(body))
    if names:
        ArticleImage.update(article=article.id).where(
            (ArticleImage.stored_name << list(names)) & ArticleImage.article.is_null()
        ).execute()


def _set_related(article, slugs, user):
    targets = []
    for slug in slugs:
        target = get_visible(slug, user) if user is not None else Article.get_or_none(Article.slug == slug)
        if target is None:
            raise ArticleProblem([("related", _("no article %(slug)s", slug=slug[:80]))])
        if target.id != article.id and target.id not in targets:
            targets.append(target.id)
    ArticleLink.delete().where(ArticleLink.from_article == article.id).execute()
    for target_id in targets:
        ArticleLink.create(article=target_id, from_article=article.id, created_by=_user_id(user))


def link_ticket(article, ticket_id, user=None):
    """Record that *ticket_id* is answered by *article* (idempotent)."""
    exists = ArticleLink.select().where((ArticleLink.ticket_id == ticket_id) & (ArticleLink.article == article.id))
    if not exists.exists():
        ArticleLink.create(article=article.id, ticket_id=ticket_id, created_by=_user_id(user))
        audit.record("link", article, summary=f"ticket {ticket_id} -> kb {article.slug}", user=user)


def delete_article(article, user=None):
    """Delete an article with its revisions, links and index row; one audited transaction."""
    with db.atomic():
        on_delete(article, user)
        article.delete_instance(recursive=False)


def on_delete(article, user=None):
    """What must happen with a deletion, inside its transaction (the admin view calls this too)."""
    search.remove_article(article.id)
    audit.record("delete", article, summary=f"kb {article.slug}", user=user,
                 changes=audit.model_changes({**article_meta(article), "body_md": article.body_md}, {}))


def after_admin_save(article, user, is_created, before=None):
    """The admin form saved *article* directly: refresh derived text, revision and index."""
    article.plain_text = render_plain(article.body_md or "")
    article.body_md = normalise_body(article.body_md or "")
    changed = is_created or before is None or before != {**article_meta(article), "body_md": article.body_md}
    if changed:
        article.revision = (article.revision or 0) + 1
        article.updated_at = utcnow()
    article.save()
    if changed:
        _write_revision(article, article_meta(article), article.body_md, user)
    search.index_article(article)


def record_view(article):
    """Count a view (a counter, not audited)."""
    with db.atomic():
        Article.update(view_count=Article.view_count + 1).where(Article.id == article.id).execute()


def vote(article, user, helpful):
    """Record the user's helpful / not helpful vote (one per user; a new vote replaces the old)."""
    with db.atomic():
        existing = ArticleVote.get_or_none((ArticleVote.article == article.id) & (ArticleVote.user == user.id))
        if existing is None:
            ArticleVote.create(article=article.id, user=user.id, helpful=helpful)
        else:
            existing.helpful = helpful
            existing.at = utcnow()
            existing.save()
        yes = ArticleVote.select().where((ArticleVote.article == article.id) & ArticleVote.helpful).count()
        no = ArticleVote.select().where((ArticleVote.article == article.id) & ~ArticleVote.helpful).count()
        Article.update(helpful_count=yes, not_helpful_count=no).where(Article.id == article.id).execute()
        audit.record("vote", article, summary=f"kb {article.slug}: {'helpful' if helpful else 'not helpful'}", user=user)
    return yes, no


def deflect(article, user, query):
    """Record that *article* solved the user's problem (they typed *query* as a ticket title)."""
    query = (query or "")[:MAX_QUERY_CHARS]
    if text_problem(query, MAX_QUERY_CHARS, multiline=True):
        query = ""
    with db.atomic():
        row = Deflection.create(article=article.id, user=_user_id(user),
                                organization=user.organization_id if _user_id(user) else None, query=query)
        audit.record("deflect", article, summary=f"kb {article.slug} solved: {query[:200]}", user=user)
    return row


# --- tickets (built by another package at the same time; used only when present) ----------------


def ticket_model():
    """Return portal.tickets.models.Ticket when that module exists, else None."""
    try:
        if importlib.util.find_spec("portal.tickets.models") is None:
            return None
        module = importlib.import_module("portal.tickets.models")
    except ImportError:
        return None
    return getattr(module, "Ticket", None)


def ticket_prefill(ticket_id, user):
    """Return {"title", "body_md"} from a ticket *user* may see, or None."""
    from portal.permissions import scope

    ticket_cls = ticket_model()
    if ticket_cls is None:
        return None
    try:
        ticket_id = int(ticket_id)
    except (TypeError, ValueError):
        return None
    query = scope(ticket_cls.select(), user, hospital=getattr(ticket_cls, "hospital", None),
                  vendor=getattr(ticket_cls, "vendor", None))
    ticket = query.where(ticket_cls.id == ticket_id).first()
    if ticket is None:
        return None
    description = getattr(ticket, "description", "") or ""
    resolution = getattr(ticket, "resolution", "") or ""
    problem_heading = _("Problem")
    solution_heading = _("Solution")
    body = f"## {problem_heading}\n\n{description.strip()}\n\n## {solution_heading}\n\n{resolution.strip()}\n"
    return {"title": (getattr(ticket, "title", "") or "")[:MAX_TITLE_CHARS], "body_md": body, "ticket_id": ticket.id}


# --- slugs for new articles ----------------------------------------------------------------------


def proposed_slug(title):
    return unique_slug(slugify(title), _slug_taken) if title else ""


@dataclass
class ImportReport:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # [(file name, [reasons])]
