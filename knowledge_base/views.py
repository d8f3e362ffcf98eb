"""Knowledge-base pages: list and search, article, revisions and diff, editor with live preview,
image upload and serving, the ticket-title suggestions and "this solved my problem".

Every read goes through ``search.visible_articles`` / ``service.get_visible``: a hospital user
gets 404 for an internal or draft article on every path, including its images and revisions.
"""

import difflib
import json

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms import SelectChoice
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField

from portal.permissions import allowed

from knowledge_base import images
from knowledge_base import search
from knowledge_base import service
from knowledge_base.models import Article
from knowledge_base.models import ArticleLink
from knowledge_base.models import ArticleRevision
from knowledge_base.models import ArticleVote
from knowledge_base.render import MAX_SOURCE_BYTES
from knowledge_base.render import render_markdown

blueprint = Blueprint("kb", __name__, url_prefix="/kb", template_folder="templates", static_folder="static")

PAGE_SIZE = 50
SUGGEST_LIMIT = 5
VISIBILITY_LABELS = {"public": _l("Public (hospital users too)"), "internal": _l("Internal (vendor only)")}
STATUS_LABELS = {"published": _l("Published"), "draft": _l("Draft")}


def render_article(body_md):
    """Render an article's Markdown with the plugins' extensions: sanitized Markup."""
    extensions = [ext for _name, ext in current_app.extensions["weibao"].registry("markdown extension").items()]
    return render_markdown(body_md or "", extensions)


def _rules():
    return current_app.extensions["weibao"].registry("resource").get("kb")


def _may(action):
    return allowed(current_user, _rules(), action)


def _require(action):
    if not _may(action):
        abort(403)


def _visible_or_404(slug):
    _require("view")
    article = service.get_visible(slug, current_user)
    if article is None:
        abort(404)
    return article


@blueprint.app_template_global("kb_visibility_label")
def _visibility_label(value):
    return VISIBILITY_LABELS.get(value, value)


@blueprint.app_template_global("kb_status_label")
def _status_label(value):
    return STATUS_LABELS.get(value, value)


# --- list and search -----------------------------------------------------------------------------


@blueprint.get("/")
@login_required
def index():
    _require("view")
    query = (request.args.get("q") or "")[:500]
    category = (request.args.get("category") or "")[:50]
    hits, articles, next_after = [], [], None
    if query.strip():
        hits = search.search_hits(query, current_user, limit=20)
    else:
        listing = search.visible_articles(current_user)
        if category:
            listing = listing.where(Article.category == category)
        after = request.args.get("after", type=int)
        if after:
            listing = listing.where(Article.id < after)
        articles = list(listing.order_by(Article.id.desc()).limit(PAGE_SIZE + 1))
        if len(articles) > PAGE_SIZE:
            articles = articles[:PAGE_SIZE]
            next_after = articles[-1].id
    categories = [row.category for row in search.visible_articles(current_user)
                  .select(Article.category).where(Article.category != "").distinct().order_by(Article.category)]
    stale = current_user.role == "admin" and search.index_is_stale()
    return render_template("knowledge_base/list.html", query=query, hits=hits, articles=articles,
                           categories=categories, category=category, next_after=next_after,
                           may_create=_may("create") and service.may_edit(current_user), stale=stale)


@blueprint.get("/suggest")
@login_required
def suggest():
    """Public, published articles matching what a reporter types as a ticket title (JSON)."""
    _require("view")
    query = (request.args.get("q") or "")[:500]
    hits = search.search_hits(query, current_user, limit=SUGGEST_LIMIT, public_only=True) if query.strip() else []
    return jsonify({"items": [
        {"slug": hit.article.slug, "title": hit.article.title, "snippet": hit.snippet,
         "url": url_for("kb.article", slug=hit.article.slug)}
        for hit in hits
    ]})


# --- one article ---------------------------------------------------------------------------------


@blueprint.get("/<slug>")
@login_required
def article(slug):
    item = _visible_or_404(slug)
    service.record_view(item)
    my_vote = ArticleVote.get_or_none((ArticleVote.article == item.id) & (ArticleVote.user == current_user.id))
    show_tickets = current_user.role in ("admin", "engineer", "manager")
    tickets = [link.ticket_id for link in ArticleLink.select().where(
        (ArticleLink.article == item.id) & ArticleLink.ticket_id.is_null(False))] if show_tickets else []
    return render_template(
        "knowledge_base/article.html", article=item, body_html=render_article(item.body_md),
        linked=service.linked_articles(item, current_user), linking=service.linking_articles(item, current_user),
        tickets=tickets, my_vote=my_vote, may_edit=_may("edit") and service.may_edit(current_user, item),
        may_delete=_may("delete") and service.may_edit(current_user, item),
        query=(request.args.get("q") or "")[:500],
    )


@blueprint.post("/<slug>/vote")
@login_required
def vote(slug):
    item = _visible_or_404(slug)
    helpful = request.form.get("helpful") == "1"
    service.vote(item, current_user, helpful)
    flash(_("Thank you for your feedback."), "success")
    return redirect(url_for("kb.article", slug=item.slug))


@blueprint.post("/<slug>/deflect")
@login_required
def deflect(slug):
    """The reporter says this article solved the problem they were about to report."""
    item = _visible_or_404(slug)
    service.deflect(item, current_user, request.form.get("q") or "")
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify({"ok": True})
    flash(_("Glad it helped. No ticket was filed."), "success")
    return redirect(url_for("kb.article", slug=item.slug))


@blueprint.post("/<slug>/delete")
@login_required
def delete(slug):
    item = _visible_or_404(slug)
    if not _may("delete") or not service.may_edit(current_user, item):
        abort(403)
    if request.form.get("confirm") != "1":
        flash(_("Tick the box to confirm the deletion."), "warning")
        return redirect(url_for("kb.article", slug=item.slug))
    service.delete_article(item, current_user)
    flash(_("The article was deleted."), "success")
    return redirect(url_for("kb.index"))


# --- revisions -----------------------------------------------------------------------------------


@blueprint.get("/<slug>/revisions")
@login_required
def revisions(slug):
    item = _visible_or_404(slug)
    rows = list(item.revisions.order_by(ArticleRevision.number.desc()))
    return render_template("knowledge_base/revisions.html", article=item, revisions=rows)


def _revision_or_404(item, number):
    revision = ArticleRevision.get_or_none((ArticleRevision.article == item.id) & (ArticleRevision.number == number))
    if revision is None:
        abort(404)
    return revision


@blueprint.get("/<slug>/revisions/<int:number>")
@login_required
def revision(slug, number):
    item = _visible_or_404(slug)
    row = _revision_or_404(item, number)
    return render_template("knowledge_base/revision.html", article=item, revision=row,
                           body_html=render_article(row.body_md))


def revision_lines(revision):
    """A revision as text lines for diffing: title, front matter, then the body."""
    meta = revision.meta_dict
    lines = [f"# {revision.title}"]
    for key in ("category", "tags", "systems", "visibility", "status", "summary"):
        value = meta.get(key, "")
        lines.append(f"{key}: {json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value}")
    lines.append("")
    return lines + revision.body_md.split("\n")


def diff_rows(old, new):
    """Unified diff of two revisions as [(kind, text)]; kind is add, del, hunk or same. Text is
    escaped by the template, never marked safe."""
    rows = []
    for line in difflib.unified_diff(revision_lines(old), revision_lines(new), lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            rows.append(("hunk", line))
        elif line.startswith("+"):
            rows.append(("add", line))
        elif line.startswith("-"):
            rows.append(("del", line))
        else:
            rows.append(("same", line))
    return rows


@blueprint.get("/<slug>/diff")
@login_required
def diff(slug):
    item = _visible_or_404(slug)
    new_number = request.args.get("to", type=int) or item.revision
    old_number = request.args.get("from", type=int) or max(1, new_number - 1)
    old = _revision_or_404(item, old_number)
    new = _revision_or_404(item, new_number)
    numbers = [row.number for row in item.revisions.select(ArticleRevision.number).order_by(ArticleRevision.number)]
    return render_template("knowledge_base/diff.html", article=item, old=old, new=new,
                           rows=diff_rows(old, new), numbers=numbers)


# --- the editor ----------------------------------------------------------------------------------


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"))
    slug = StringField(_l("Address (slug)"))
    category = StringField(_l("Category"))
    tags = StringField(_l("Tags"), description=_l("Separate with commas"))
    systems = StringField(_l("Systems"), description=_l("Names of the covered systems, separated with commas"))
    related = StringField(_l("Related articles"), description=_l("Slugs of other articles, separated with commas"))
    visibility = SelectField(_l("Visibility"), default="internal",
                             choices=[SelectChoice(key, label) for key, label in VISIBILITY_LABELS.items()])
    status = SelectField(_l("Status"), default="draft",
                         choices=[SelectChoice(key, label) for key, label in STATUS_LABELS.items()])
    summary = StringField(_l("Summary"))
    body_md = TextAreaField(_l("Text (Markdown)"))
    ticket_id = HiddenField()
    revision = HiddenField()


def _split_list(value):
    parts = (value or "").replace("，", ",").replace("、", ",").split(",")
    return [part.strip() for part in parts if part.strip()]


def _form_data(form):
    return {
        "title": form.title.data or "", "category": form.category.data or "",
        "tags": _split_list(form.tags.data), "systems": _split_list(form.systems.data),
        "visibility": form.visibility.data, "status": form.status.data,
        "summary": form.summary.data or "", "body_md": form.body_md.data or "",
    }


def _editor_page(form, item, errors, status=200):
    return render_template("knowledge_base/editor.html", form=form, article=item, errors=errors,
                           preview_url=url_for("kb.preview"), upload_url=url_for("kb.upload_image")), status


@blueprint.route("/new", methods=["GET", "POST"])
@login_required
def new():
    _require("create")
    if not service.may_edit(current_user):
        abort(403)
    form = ArticleForm()
    errors = []
    if request.method == "GET" and request.args.get("ticket_id"):
        prefill = service.ticket_prefill(request.args.get("ticket_id"), current_user)
        if prefill is None:
            flash(_("That ticket was not found; start from an empty article."), "warning")
        else:
            form.title.data = prefill["title"]
            form.body_md.data = prefill["body_md"]
            form.ticket_id.data = str(prefill["ticket_id"])
            form.visibility.data = "internal"
    if form.validate_on_submit():
        data = _form_data(form)
        if (form.slug.data or "").strip():
            data["slug"] = form.slug.data.strip()
        ticket_id = None
        if form.ticket_id.data:
            prefill = service.ticket_prefill(form.ticket_id.data, current_user)
            ticket_id = prefill["ticket_id"] if prefill else None
        vendor_id = current_user.organization_id if current_user.role != "admin" else None
        try:
            result = service.save_article(data, user=current_user, vendor_id=vendor_id,
                                          related=_split_list(form.related.data), ticket_id=ticket_id)
        except service.ArticleProblem as problem:
            errors = problem.details
            return _editor_page(form, None, errors, 409 if problem.status == 409 else 422)
        flash(_("The article was saved."), "success")
        return redirect(url_for("kb.article", slug=result.article.slug))
    return _editor_page(form, None, errors)


@blueprint.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug):
    item = _visible_or_404(slug)
    _require("edit")
    if not service.may_edit(current_user, item):
        abort(403)
    form = ArticleForm()
    errors = []
    if request.method == "GET":
        meta = service.article_meta(item)
        form.title.data, form.category.data, form.summary.data = meta["title"], meta["category"], meta["summary"]
        form.tags.data = ", ".join(meta["tags"])
        form.systems.data = ", ".join(meta["systems"])
        form.related.data = ", ".join(a.slug for a in service.linked_articles(item, current_user))
        form.visibility.data, form.status.data = meta["visibility"], meta["status"]
        form.body_md.data = item.body_md
        form.revision.data = str(item.revision)
    if form.validate_on_submit():
        if (form.revision.data or "") != str(item.revision):
            errors = [("revision", _("Someone saved this article while you were editing it. "
                                     "Copy your text, reload the page and apply your changes again."))]
            return _editor_page(form, item, errors, 409)
        try:
            service.save_article(_form_data(form), user=current_user, article=item,
                                 related=_split_list(form.related.data))
        except service.ArticleProblem as problem:
            return _editor_page(form, item, problem.details, 409 if problem.status == 409 else 422)
        flash(_("The article was saved."), "success")
        return redirect(url_for("kb.article", slug=item.slug))
    return _editor_page(form, item, errors)


@blueprint.post("/preview")
@login_required
def preview():
    """Render Markdown for the editor's live preview: sanitized HTML as JSON."""
    if not (_may("create") or _may("edit")) or not service.may_edit(current_user):
        abort(403)
    body = request.form.get("body_md", "")
    if len(body.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        return jsonify({"error": _("The text is too large to preview.")}), 413
    try:
        html = str(render_article(body))
    except ValueError as error:
        return jsonify({"error": str(error)}), 422
    return jsonify({"html": html})


# --- images --------------------------------------------------------------------------------------


@blueprint.post("/images")
@login_required
def upload_image():
    if not (_may("create") or _may("edit")) or not service.may_edit(current_user):
        abort(403)
    upload = request.files.get("image")
    if upload is None:
        return jsonify({"error": _("Choose a picture to upload.")}), 400
    try:
        image = images.store_image(upload.stream, upload.filename, current_user)
    except images.ImageRefused:
        return jsonify({"error": _("Only PNG, JPEG, GIF or WebP pictures up to 5 MB can be uploaded.")}), 415
    url = url_for("kb.image", name=image.stored_name)
    alt = "".join(c for c in (upload.filename or "") if c.isalnum() or c in " -_.")[:60] or "image"
    return jsonify({"url": url, "markdown": f"![{alt}]({url})"}), 201


@blueprint.get("/images/<name>")
@login_required
def image(name):
    _require("view")
    if len(name) > 64:
        abort(404)
    item = images.visible_image(name, current_user)
    if item is None:
        abort(404)
    path = images.image_path(item)
    if not path.is_file():
        abort(404)
    # Images are small (at most 5 MB): read them whole, so no file handle outlives the request.
    response = Response(path.read_bytes(), mimetype=item.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response

