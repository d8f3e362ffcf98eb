"""The knowledge-base built-in plugin: models, search index, pages, API, admin, CLI and demo."""

from pathlib import Path

from portal.migrations import create_tables_migration
from portal.permissions import ALL_ROLES
from portal.permissions import rules
from portal.plugins import Plugin

from knowledge_base import admin
from knowledge_base import api
from knowledge_base import commands
from knowledge_base import demo
from knowledge_base import search
from knowledge_base import segment
from knowledge_base import views
from knowledge_base.models import MODELS

EDITORS = {"engineer", "manager"}


def setup(ctx):
    ctx.add_models(*MODELS)
    ctx.add_resource("kb", rules(view=ALL_ROLES, create=EDITORS, edit=EDITORS, delete={"manager"}, export=EDITORS))
    ctx.add_blueprint(views.blueprint)
    ctx.add_blueprint(api.blueprint)
    for name, factory in admin.admin_views():
        ctx.add_admin_view(factory, name)
    for command in commands.COMMANDS:
        ctx.add_cli_command(command)
    ctx.add_demo_loader("knowledge_base", demo.load)
    ctx.add_translations(Path(__file__).parent / "translations")
    # jieba takes 6–9 s to load its dictionary: do it now, off the request path. Not under test
    # (KB_WARM_UP defaults off when TESTING): the suite builds hundreds of apps in one process,
    # the tokenizer is process-wide and loads on first use there anyway, and a background load
    # competing for the CPU would only slow and perturb the timing-sensitive tests.
    if ctx.app.config.get("KB_WARM_UP", not ctx.app.testing):
        ctx.app.extensions["weibao"].warm_ups.append(segment.start_warm_up())


def create_search_index(database):
    """Create the FTS5 table (SQLite) or the tsvector table with its GIN index (PostgreSQL)."""
    search.create_index(database)


def add_title_index(database):
    """PostgreSQL: the title-only tsvector column and its GIN index (no-op on SQLite)."""
    search.add_title_index(database)


plugin = Plugin(
    name="knowledge_base",
    setup=setup,
    requires=("accounts",),
    migrations=(create_tables_migration(*MODELS), create_search_index, add_title_index),
    description="Markdown knowledge base with Chinese search, revisions and self-help suggestions",
)
