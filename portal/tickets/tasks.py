"""Periodic SLA sweep and the `weibao verify-data-changes` command."""

import click
from flask import current_app
from flask import has_app_context

from portal.db import db
from portal.tickets import chain
from portal.tickets import deadlines


def sla_sweep():
    """Every minute: flag breaches, raise warning levels, send the signals once per level."""
    return deadlines.sweep()


@click.command("verify-data-changes")
def verify_data_changes():
    """Check the hash chain of data-change records; exit 1 and list every break found."""
    from portal import create_app

    app = current_app._get_current_object() if has_app_context() else create_app()
    with app.app_context():
        db.connect(reuse_if_open=True)
        try:
            breaks = chain.verify()
            count = chain.DataChangeRecord.select().count()
        finally:
            if not db.in_transaction():
                db.close()
    if breaks:
        for item in breaks:
            click.echo(f"BROKEN {item}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"data-change chain intact: {count} record(s)")
