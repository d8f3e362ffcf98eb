"""The `weibao` command: run, demo, init, worker, create-user, create-token, backup, restore."""

import os
import shutil
import sqlite3
import subprocess
import sys

import click
from huey.consumer import Consumer
from waitress import serve

from portal import create_app
from portal.accounts import commands as account_commands
from portal.db import db
from portal.db import is_postgres
from portal.demo import load_demo
from portal.heap import freeze_start_up
from portal.migrations import NEEDS_INIT
from portal.migrations import pending_migrations
from portal.migrations import upgrade
from portal.queue import start_embedded_consumer


class PluginCommandGroup(click.Group):
    """The built-in commands, plus those enabled plugins register (found by building the app)."""

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        commands = create_app().extensions["weibao"].registry("cli command")
        return commands.get(name) if name in commands else None


def _app():
    return create_app()


@click.group(cls=PluginCommandGroup)
def main():
    """Weibao (维保) maintenance portal."""


def _upgrade(app):
    with app.app_context():
        db.connect(reuse_if_open=True)
        plugins = [plugin for _, plugin in app.extensions["weibao"].registry("plugin").items()]
        return upgrade(plugins)


@main.command()
def init():
    """Create or upgrade the database (existing data is kept)."""
    app = _app()
    ran = _upgrade(app)
    _optimize(app)
    click.echo(f"applied {len(ran)} migration(s)" + (": " + ", ".join(f"{c} {v}" for c, v in ran) if ran else ""))


def _optimize(app):
    """SQLite never gathers planner statistics by itself: let it refresh those that are stale
    (cheap; bench/README.md bottleneck 10). PostgreSQL's autovacuum does this already."""
    with app.app_context():
        db.connect(reuse_if_open=True)
        if not is_postgres():
            db.execute_sql("PRAGMA optimize")


#: waitress' own default. The portal's requests are CPU-bound Python on one GIL: at 1M tickets
#: 4 threads served the lists 10-25 % more requests/s than 8, with a third lower p99 (bench/README.md).
THREADS = 4


def _serve(app, host, port, threads):
    if pending_migrations(app):
        raise click.ClickException(NEEDS_INIT)
    freeze_start_up(app)
    consumer = start_embedded_consumer(app)
    click.echo(f"Weibao serving on http://{host}:{port}/ (queue consumer running in this process)")
    try:
        serve(app, host=host, port=port, threads=threads, ident="weibao")
    finally:
        consumer.stop(graceful=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=THREADS, show_default=True, type=int)
def run(host, port, threads):
    """Serve the portal with waitress, with the queue consumer in the same process."""
    _serve(_app(), host, port, threads)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-run", is_flag=True, help="Load the demo data and stop.")
def demo(host, port, no_run):
    """Create or upgrade the database, load demo data if it is empty, print the log-ins, then run."""
    app = _app()
    _upgrade(app)
    with app.app_context():
        logins = load_demo(app)
        db.close()
    if logins:
        click.echo("Demo log-ins (username / password):")
        for username, password, label in logins:
            click.echo(f"  {username:<8} {password}  {label}")
    else:
        click.echo("The database already has data; demo rows were not loaded again.")
    if not no_run:
        _serve(app, host, port, THREADS)


@main.command()
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Schedule the periodic tasks here too (safe on every worker: each task's minute is "
                   "claimed by one scheduler, so it runs once).")
@click.option("--max-delay", default=2.0, show_default=True, type=float,
              help="Longest pause between polls of an idle queue, in seconds (SQLite queue; Redis blocks).")
@click.option("--worker-type", type=click.Choice(["thread", "process"]), default="thread", show_default=True,
              help="process: one OS process per worker (no GIL sharing; each opens its own connections).")
def worker(workers, periodic, max_delay, worker_type):
    """Run a queue consumer (scale-out: one or more beside `gunicorn 'portal.wsgi:app'`)."""
    app = _app()
    if pending_migrations(app):
        raise click.ClickException(NEEDS_INIT)
    Consumer(app.extensions["weibao"].huey, workers=workers, worker_type=worker_type, periodic=periodic,
             max_delay=max_delay).run()


@main.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "hospital_it", "reporter", "engineer", "manager"]))
@click.option("--password", required=True)
@click.option("--org", "org_name", default=None, help="Organisation name (created if missing).")
@click.option("--display-name", default="")
def create_user(username, role, password, org_name, display_name):
    """Create a user (the organisation is created when it does not exist)."""
    app = _app()
    with app.app_context():
        try:
            user = account_commands.create_user(username, role, password, org_name, display_name)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"created user {user.username} ({user.role}) in {user.organization.name}")


@main.command("create-token")
@click.argument("username")
@click.option("--name", default="cli")
def create_token(username, name):
    """Create an API token for USERNAME and print it as the last line."""
    app = _app()
    with app.app_context():
        try:
            token = account_commands.create_token(username, name)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    click.echo("Store this token now; it is shown only once:")
    click.echo(token)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path):
    """Write a consistent copy of the database to PATH while the portal runs."""
    app = _app()
    url = app.config.get("DATABASE_URL")
    if url and url.startswith(("postgres://", "postgresql://")):
        _run_tool(["pg_dump", "--format=custom", "--file", path, url])
    else:
        _sqlite_copy(_sqlite_path(app), path)
    click.echo(f"backup written to {path}")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(path, yes):
    """Replace the database with the backup at PATH (stop the portal first)."""
    if not yes:
        click.confirm("This replaces every row of the current database. Continue?", abort=True)
    app = _app()
    url = app.config.get("DATABASE_URL")
    if url and url.startswith(("postgres://", "postgresql://")):
        _run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--dbname", url, path])
    else:
        _check_sqlite_backup(path)
        _sqlite_copy(path, _sqlite_path(app))
    click.echo(f"restored from {path}")


def _sqlite_path(app):
    return db.obj.database if db.obj is not None else os.path.join(app.instance_path, "weibao.db")


def _sqlite_copy(source, target):
    """Copy with SQLite's online backup API: consistent even while others write (WAL)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()


def _check_sqlite_backup(path):
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise click.ClickException(f"{path} is not a readable SQLite database: {error}") from None
    if result != "ok" or "schema_version" not in tables:
        raise click.ClickException(f"{path} is not a Weibao backup (integrity: {result})")


def _run_tool(command):
    if shutil.which(command[0]) is None:
        raise click.ClickException(f"{command[0]} is not installed")
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise click.ClickException(completed.stderr.strip() or f"{command[0]} failed")


if __name__ == "__main__":
    sys.exit(main())
