"""Admin views: the article table (resource "kb", scoped by visibility) and a menu link to /kb/."""

from flask_admin import BaseView
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from portal.admin import AccessMixin
from portal.admin import SecureModelView

from knowledge_base import search
from knowledge_base import service
from knowledge_base.models import Article
from knowledge_base.models import ArticleRevision

CATEGORY = _l("Knowledge base")
VISIBILITY_LABELS = {"public": _l("Public (hospital users too)"), "internal": _l("Internal (vendor only)")}
STATUS_LABELS = {"published": _l("Published"), "draft": _l("Draft")}


class ArticleView(SecureModelView):
    """Articles in the admin: every read filtered by the same visibility rule as search."""

    resource = "kb"
    column_list = ("title", "slug", "category", "visibility", "status", "vendor", "revision", "view_count",
                   "helpful_count", "updated_at")
    column_default_sort = ("id", True)
    column_filters = ("category", "visibility", "status")
    column_details_exclude_list = ("plain_text",)
    column_export_exclude_list = ("plain_text",)
    form_columns = ("title", "category", "visibility", "status", "summary", "body_md")
    form_choices = {
        "visibility": list(VISIBILITY_LABELS.items()),
        "status": list(STATUS_LABELS.items()),
    }
    column_formatters = {
        "visibility": lambda v, c, m, p: VISIBILITY_LABELS.get(m.visibility, m.visibility),
        "status": lambda v, c, m, p: STATUS_LABELS.get(m.status, m.status),
        "title": lambda v, c, m, p: m.title,
    }
    column_labels = {
        "title": _l("Title"), "slug": _l("Address (slug)"), "category": _l("Category"),
        "visibility": _l("Visibility"), "status": _l("Status"), "vendor": _l("Vendor"),
        "revision": _l("Revision"), "view_count": _l("Views"), "helpful_count": _l("Helpful"),
        "updated_at": _l("Updated"), "summary": _l("Summary"), "body_md": _l("Text (Markdown)"),
    }

    def scoped(self, query):
        return query.where(search.visible_condition(search.visibility_for(current_user)))

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not service.may_edit(current_user, None if is_created else model):
            raise ValidationError(_l("You may not edit this article."))
        try:
            cleaned = service.check_input({
                "title": model.title, "category": model.category or "", "summary": model.summary or "",
                "visibility": model.visibility, "status": model.status, "body_md": model.body_md or "",
                "tags": model.tag_list, "systems": [],
            })
        except service.ArticleProblem as problem:
            raise ValidationError("; ".join(f"{name}: {message}" for name, message in problem.details)) from None
        model.title, model.category, model.summary = cleaned["title"], cleaned["category"], cleaned["summary"]
        if is_created:
            model.slug = service.proposed_slug(model.title)
            model.author = current_user.id
            model.vendor = current_user.organization_id if current_user.role != "admin" else None

    def after_model_change(self, form, model, is_created):
        # Still inside SecureModelView's transaction: revision and index row commit with the change.
        latest = model.revisions.order_by(ArticleRevision.number.desc()).first() if not is_created else None
        before = None
        if latest is not None:
            meta = latest.meta_dict
            before = {"title": latest.title, "slug": model.slug, "category": meta.get("category", ""),
                      "tags": meta.get("tags", []), "systems": meta.get("systems", []),
                      "visibility": meta.get("visibility"), "status": meta.get("status"),
                      "summary": meta.get("summary", ""), "body_md": latest.body_md}
        service.after_admin_save(model, current_user._get_current_object(), is_created, before)

    def on_model_delete(self, model):
        search.remove_article(model.id)


class KnowledgeBaseLink(AccessMixin, BaseView):
    """The knowledge base's own pages, from the admin menu."""

    resource = "kb"

    @expose("/")
    def index(self):
        return self.render("knowledge_base/admin_link.html", stale=search.index_is_stale())


def admin_views():
    return [
        ("kb_home", lambda: KnowledgeBaseLink(name=_l("Search the knowledge base"), category=CATEGORY,
                                              endpoint="kb_home", url="/admin/kb-home")),
        ("kb_articles", lambda: ArticleView(Article, name=_l("Articles"), category=CATEGORY,
                                            endpoint="kb_articles", url="/admin/kb-articles")),
    ]
