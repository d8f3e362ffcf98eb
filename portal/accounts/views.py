"""Log-in, log-out, profile, password change, API tokens and the language switch."""

from urllib.parse import urlsplit

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_login import login_required

from portal import audit
from portal.accounts.forms import LoginForm
from portal.accounts.forms import PasswordChangeForm
from portal.accounts.models import ApiToken
from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.accounts.passwords import hash_password
from portal.accounts.passwords import new_token
from portal.accounts.passwords import verify_password
from portal.auth import LoginRefused
from portal.auth import authenticate
from portal.auth import end_all_sessions
from portal.auth import log_out
from portal.auth import start_session
from portal.db import db

blueprint = Blueprint("accounts", __name__)


def _safe_next(target):
    """Follow ?next= only within this site (no open redirects)."""
    if not target:
        return url_for("admin.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("admin.index")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data, form.password.data)
        except LoginRefused as refused:
            if refused.reason == "locked":
                flash(_("Too many failed log-ins: this account is locked for a while. Try again later."), "error")
            else:
                flash(_("Wrong username or password."), "error")
            return render_template("accounts/login.html", form=form), 401
        start_session(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@blueprint.post("/logout")
@login_required
def logout():
    log_out()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@blueprint.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not verify_password(user.password_hash, form.current.data):
            flash(_("The current password is wrong."), "error")
        else:
            with db.atomic():
                User.update(password_hash=hash_password(form.new.data)).where(User.id == user.id).execute()
                end_all_sessions(user)
                audit.record("password_change", user)
            session.clear()
            flash(_("Password changed. Please log in again."), "info")
            return redirect(url_for("accounts.login"))
    tokens = ApiToken.select().where(ApiToken.user == current_user.id).order_by(ApiToken.id.desc())
    return render_template("accounts/profile.html", form=form, tokens=tokens)


@blueprint.post("/profile/tokens")
@login_required
def create_token():
    token, prefix, digest = new_token()
    name = request.form.get("name", "")[:100]
    with db.atomic():
        row = ApiToken.create(user=current_user.id, name=name, prefix=prefix, token_hash=digest)
        audit.record("create", row, summary=f"API token {prefix}…")
    flash(_("Your new API token (shown only once): %(token)s", token=token), "success")
    return redirect(url_for("accounts.profile"))


@blueprint.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    with db.atomic():
        token = ApiToken.get_or_none((ApiToken.id == token_id) & (ApiToken.user == current_user.id))
        if token is None:
            return render_template("accounts/not_found.html"), 404
        ApiToken.update(revoked_at=utcnow()).where(ApiToken.id == token.id).execute()
        audit.record("revoke", token, summary=f"API token {token.prefix}…")
    flash(_("The token is revoked."), "info")
    return redirect(url_for("accounts.profile"))


@blueprint.get("/language/<lang>")
def set_language(lang):
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(_safe_next(request.args.get("next")))
