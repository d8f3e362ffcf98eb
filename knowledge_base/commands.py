"""``weibao import-kb DIR``, ``weibao export-kb DIR`` and ``weibao reindex-kb``."""

import click
from flask import current_app
from flask.cli import ScriptInfo

from portal.db import db

from knowledge_base import search
from knowledge_base import transfer


def _app():
    """The app to work on: the one the Flask CLI (or a test runner) loaded, else a new one."""
    try:
        return current_app._get_current_object()
    except RuntimeError:
        pass
    info = click.get_current_context().find_object(ScriptInfo)
    if info is not None:
        try:
            return info.load_app()
        except Exception:  # no FLASK_APP and no app.py here: build our own
            pass
    from portal import create_app

    return create_app()


def _vendor_id(name):
    from portal.accounts.models import Organization

    if not name:
        return None
    org = Organization.get_or_none((Organization.name == name) & (Organization.kind == "vendor"))
    if org is None:
        raise click.ClickException(f"no vendor organisation named {name!r}")
    return org.id


@click.command("import-kb")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--vendor", default=None, help="Owner vendor organisation (default: product-wide).")
def import_kb(directory, vendor):
    """Import the *.md article files of DIRECTORY (idempotent by slug)."""
    app = _app()
    with app.app_context():
        db.connect(reuse_if_open=True)
        report = transfer.import_directory(directory, vendor_id=_vendor_id(vendor))
        db.close()
    for label in ("created", "updated", "unchanged"):
        slugs = getattr(report, label)
        click.echo(f"{label}: {len(slugs)}" + (f" ({', '.join(slugs)})" if slugs and label != "unchanged" else ""))
    click.echo(f"refused: {len(report.refused)}")
    for name, reasons in report.refused:
        for reason in reasons:
            click.echo(f"  {name}: {reason}")
    if report.refused:
        raise SystemExit(1)


@click.command("export-kb")
@click.argument("directory", type=click.Path(file_okay=False))
def export_kb(directory):
    """Write every article as DIRECTORY/<slug>.md with front matter."""
    app = _app()
    with app.app_context():
        db.connect(reuse_if_open=True)
        count = transfer.export_directory(directory)
        db.close()
    click.echo(f"exported {count} article(s) to {directory}")


@click.command("reindex-kb")
@click.option("--if-stale", is_flag=True, help="Only when the segmentation dictionary changed.")
def reindex_kb(if_stale):
    """Rebuild the knowledge-base search index."""
    app = _app()
    with app.app_context():
        db.connect(reuse_if_open=True)
        if if_stale and not search.index_is_stale():
            click.echo("the search index is up to date")
            db.close()
            return
        count = search.rebuild_index()
        db.close()
    click.echo(f"indexed {count} article(s)")


COMMANDS = (import_kb, export_kb, reindex_kb)
