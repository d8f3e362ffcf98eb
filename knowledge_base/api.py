"""/api/v1/kb/articles, /api/v1/kb/articles/{slug} and /api/v1/kb/search (API.md)."""

from flask import jsonify
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.api import api_blueprint
from portal.api.endpoint import api_endpoint
from portal.api.endpoint import json_body
from portal.api.errors import ApiError
from portal.api.errors import problem
from portal.api.pagination import encode_cursor
from portal.api.pagination import page_args
from portal.api.validation import Integer
from portal.api.validation import ListOf
from portal.api.validation import Text
from portal.api.validation import validate

from knowledge_base import search
from knowledge_base import service
from knowledge_base.files import MAX_LABEL_CHARS
from knowledge_base.files import MAX_LIST_ITEMS
from knowledge_base.files import MAX_SLUG_CHARS
from knowledge_base.files import MAX_SUMMARY_CHARS
from knowledge_base.files import MAX_TITLE_CHARS
from knowledge_base.files import STATUSES
from knowledge_base.files import VISIBILITIES
from knowledge_base.models import Article
from knowledge_base.models import ArticleSystem
from knowledge_base.render import MAX_SOURCE_BYTES
from knowledge_base.views import render_article

blueprint = api_blueprint("kb_api", __name__)

_FIELDS = {
    "slug": Text(max_length=MAX_SLUG_CHARS, description="generated from the title when absent"),
    "title": Text(max_length=MAX_TITLE_CHARS, min_length=1, required=True),
    "body_md": Text(max_length=MAX_SOURCE_BYTES, multiline=True, required=True),
    "category": Text(max_length=MAX_LABEL_CHARS),
    "tags": ListOf(Text(max_length=MAX_LABEL_CHARS, min_length=1), max_items=MAX_LIST_ITEMS),
    "systems": ListOf(Text(max_length=MAX_LABEL_CHARS, min_length=1), max_items=MAX_LIST_ITEMS,
                      description="names of covered systems"),
    "visibility": Text(choices=VISIBILITIES, description="missing: internal"),
    "status": Text(choices=STATUSES, description="missing: draft"),
    "summary": Text(max_length=MAX_SUMMARY_CHARS),
    "related": ListOf(Text(max_length=MAX_SLUG_CHARS), max_items=MAX_LIST_ITEMS,
                      description="slugs of articles this one links to"),
}
CREATE_BODY = dict(_FIELDS)
PATCH_BODY = {name: check for name, check in _FIELDS.items() if name != "slug"}
PATCH_BODY["slug"] = Text(max_length=MAX_SLUG_CHARS, description="must equal the current slug when given")
PATCH_BODY["revision"] = Integer(minimum=1, description="the revision you edited; 409 when the article moved on")

SEARCH_QUERY = {"q": Text(max_length=500, required=True), "limit": Integer(minimum=1, maximum=search.MAX_LIMIT)}

_STRINGS = {"type": "array", "items": {"type": "string"}}
SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "slug": {"type": "string"}, "title": {"type": "string"},
        "summary": {"type": "string"}, "category": {"type": "string"}, "tags": _STRINGS, "systems": _STRINGS,
        "visibility": {"type": "string"}, "status": {"type": "string"}, "revision": {"type": "integer"},
        "vendor_id": {"type": ["integer", "null"]}, "created_at": {"type": "string"},
        "updated_at": {"type": "string"}, "helpful_count": {"type": "integer"},
        "not_helpful_count": {"type": "integer"}, "view_count": {"type": "integer"}, "url": {"type": "string"},
    },
}
ARTICLE_SCHEMA = {
    "type": "object",
    "properties": {**SUMMARY_SCHEMA["properties"], "body_md": {"type": "string"}, "body_html": {"type": "string"},
                   "related": _STRINGS},
}
LIST_SCHEMA = {"type": "object", "properties": {"items": {"type": "array", "items": SUMMARY_SCHEMA},
                                                "next_cursor": {"type": ["string", "null"]}}}
SEARCH_SCHEMA = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
        "slug": {"type": "string"}, "title": {"type": "string"}, "snippet": {"type": "string"},
        "score": {"type": "number"}}}}},
}


def _iso(value):
    return value.isoformat() if value else None


def summary_json(article, systems=None):
    return {
        "id": article.id, "slug": article.slug, "title": article.title, "summary": article.summary,
        "category": article.category, "tags": article.tag_list,
        "systems": systems if systems is not None else article.system_names,
        "visibility": article.visibility, "status": article.status, "revision": article.revision,
        "vendor_id": article.vendor_id, "created_at": _iso(article.created_at), "updated_at": _iso(article.updated_at),
        "helpful_count": article.helpful_count, "not_helpful_count": article.not_helpful_count,
        "view_count": article.view_count, "url": url_for("kb.article", slug=article.slug),
    }


def article_json(article):
    data = summary_json(article)
    data["body_md"] = article.body_md
    data["body_html"] = str(render_article(article.body_md))
    data["related"] = [other.slug for other in service.linked_articles(article, current_user)]
    return data


def _problem_error(error):
    details = [problem(name, message) for name, message in error.details]
    if error.status == 409:
        return ApiError(409, _("An article with this slug exists already."), details=details)
    return ApiError(422, _("The request has invalid fields."), details=details)


@blueprint.get("/kb/articles")
@api_endpoint("List knowledge-base articles", resource="kb", response=LIST_SCHEMA,
              query={"limit": Integer(minimum=1, maximum=200), "cursor": Text(max_length=200),
                     "category": Text(max_length=MAX_LABEL_CHARS)})
def list_articles():
    limit, cursor = page_args()
    query = search.visible_articles(current_user)
    category = request.args.get("category")
    if category:
        query = query.where(Article.category == category[:MAX_LABEL_CHARS])
    if cursor:
        try:
            query = query.where(Article.id < int(cursor[0]))
        except (TypeError, ValueError, IndexError):
            raise ApiError(400, _("Invalid cursor.")) from None
    rows = list(query.order_by(Article.id.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    systems = {}
    if rows:
        for row in ArticleSystem.select().where(ArticleSystem.article << [a.id for a in rows]).order_by(ArticleSystem.id):
            systems.setdefault(row.article_id, []).append(row.name)
    return jsonify({
        "items": [summary_json(article, systems.get(article.id, [])) for article in rows],
        "next_cursor": encode_cursor([rows[-1].id]) if more and rows else None,
    })


@blueprint.post("/kb/articles")
@api_endpoint("Create a knowledge-base article", resource="kb", action="create", body=CREATE_BODY,
              response=ARTICLE_SCHEMA, status=201)
def create_article():
    data = validate(CREATE_BODY, json_body())
    if not service.may_edit(current_user):
        raise ApiError(403, _("Your role may not do this."))
    related = data.pop("related", None)
    if data.get("slug") in (None, ""):
        data.pop("slug", None)
    vendor_id = current_user.organization_id if current_user.role != "admin" else None
    try:
        result = service.save_article(data, user=current_user, vendor_id=vendor_id, related=related)
    except service.ArticleProblem as error:
        raise _problem_error(error) from None
    return jsonify(article_json(result.article)), 201


def _article_or_404(slug):
    article = service.get_visible(slug, current_user)
    if article is None:
        raise ApiError(404, _("No such article."))
    return article


@blueprint.get("/kb/articles/<slug>")
@api_endpoint("One knowledge-base article", resource="kb", response=ARTICLE_SCHEMA)
def get_article(slug):
    return jsonify(article_json(_article_or_404(slug)))


@blueprint.patch("/kb/articles/<slug>")
@api_endpoint("Change a knowledge-base article", resource="kb", action="edit", body=PATCH_BODY,
              response=ARTICLE_SCHEMA)
def patch_article(slug):
    article = _article_or_404(slug)
    data = validate(PATCH_BODY, json_body(), partial=True)
    if not service.may_edit(current_user, article):
        raise ApiError(403, _("Your role may not do this."))
    revision = data.pop("revision", None)
    if revision is not None and revision != article.revision:
        raise ApiError(409, _("The article has changed since revision %(n)d.", n=revision),
                       details=[problem("revision", _("the current revision is %(n)d", n=article.revision))])
    related = data.pop("related", None)
    try:
        service.save_article(data, user=current_user, article=article, related=related)
    except service.ArticleProblem as error:
        raise _problem_error(error) from None
    return jsonify(article_json(Article.get_by_id(article.id)))


@blueprint.get("/kb/search")
@api_endpoint("Search the knowledge base", resource="kb", query=SEARCH_QUERY, response=SEARCH_SCHEMA)
def search_articles():
    raw = {"q": request.args["q"]} if "q" in request.args else {}
    if "limit" in request.args:
        try:
            raw["limit"] = int(request.args["limit"])
        except ValueError:
            raise ApiError(400, _("Invalid limit."), details=[problem("limit", _("must be an integer"))]) from None
    params = validate(SEARCH_QUERY, raw)
    hits = search.search_hits(params["q"], current_user, limit=params.get("limit") or 10)
    return jsonify({"items": [
        {"slug": hit.article.slug, "title": hit.article.title, "snippet": hit.snippet, "score": round(hit.score, 6)}
        for hit in hits
    ]})
