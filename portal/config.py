"""Configuration: defaults, then instance/weibao.toml, then WEIBAO_* environment, then test overrides."""

import os
import secrets
import tempfile
import tomllib
from pathlib import Path

DEFAULTS = {
    "DATABASE_URL": None,  # None: SQLite in instance/weibao.db
    "QUEUE_URL": None,  # None: SqliteHuey in instance/queue.db
    "QUEUE_IMMEDIATE": False,
    "PLUGINS": "",
    "TIMEZONE": "Asia/Shanghai",
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ("zh_CN", "en"),
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "LOCKOUT_THRESHOLD": 10,
    "LOCKOUT_MINUTES": 10,
    # argon2id cost (the library's RFC 9106 low-memory profile); verification reads a hash's own
    # parameters, so lowering these (as the tests do) never locks out existing users.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_KIB": 65536,
    "ARGON2_PARALLELISM": 4,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,  # the session's own timeouts bound the token's life
    "API_MAX_BODY_BYTES": 1024 * 1024,
    "TEMPLATES_AUTO_RELOAD": False,
}


def instance_path():
    """Return the folder that holds the database, queue, secret key and uploads."""
    return os.path.abspath(os.environ.get("WEIBAO_INSTANCE_PATH") or os.path.join(os.getcwd(), "instance"))


def load_config(app, overrides=None):
    """Fill app.config in the documented order of precedence."""
    app.config.update(DEFAULTS)
    settings_file = Path(app.instance_path) / "weibao.toml"
    if settings_file.exists():
        app.config.from_file(str(settings_file), load=tomllib.load, text=False)
    app.config.from_prefixed_env("WEIBAO")
    app.config.update(overrides or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def _instance_secret_key(folder):
    """Read instance/secret_key, creating it once with mode 0600 (never a constant in code).

    Several processes may start at once on a fresh folder (gunicorn's workers, `weibao worker`s).
    Each writes a complete key to a private temporary file and publishes it with link(), which
    fails when the name exists: the file is never seen half-written, and every process ends up
    with the one key that was published first.
    """
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".secret_key-", dir=folder)  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process published its key first: read that one below
        finally:
            os.unlink(temporary)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it to have a new key made (this logs everyone out)")
    return key
