"""Pages for people: the inbox (/notifications/), marking read, preferences, the unread count."""

from flask import Blueprint
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
from markupsafe import Markup
from markupsafe import escape
from peewee import SQL
from peewee import Select
from peewee import fn
from wtforms import BooleanField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import widgets
from wtforms.validators import Optional
from wtforms.validators import Regexp

from portal import audit
from portal.accounts.models import utcnow
from portal.admin import local_time
from portal.db import db
from portal.notify.api import inbox_query
from portal.notify.events import EVENT_LABELS
from portal.notify.models import Notification
from portal.notify.models import NotificationPreference
from portal.notify.recipients import preference
from portal.prepared import prepared
from portal.user_menu import fixed_part

blueprint = Blueprint("notify", __name__)
PAGE = 50
UNREAD_CAP = 100
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


@prepared
def _unread(shape, user_id):
    capped = (Notification.select(SQL("1")).where((Notification.recipient == user_id) & (Notification.channel == "inbox")
                                                  & Notification.read_at.is_null()).limit(UNREAD_CAP))
    return Select([capped.alias("capped")], [fn.COUNT(SQL("1"))]).tuples()  # COUNT over at most UNREAD_CAP rows


def unread_count(user):
    """Unread inbox items, counted up to UNREAD_CAP (an index range, never the whole table)."""
    return _unread.scalar(user_id=user.id)


def nav_item():
    """The user menu's link to the inbox, with the unread count as a badge (portal/user_menu.py)."""
    link, label = fixed_part("notifications", lambda: (escape(url_for("notify.inbox")), escape(_("Notifications"))))
    unread = unread_count(current_user)
    badge = ""
    if unread:
        shown = unread if unread < UNREAD_CAP else f"{UNREAD_CAP - 1}+"
        badge = f' <span class="badge badge-danger" id="unread-count">{shown}</span>'
    return Markup(f'<li class="nav-item"><a class="nav-link" id="notifications-link" href="{link}">{label}{badge}</a></li>')


def init_nav(app):
    @app.context_processor
    def _times():
        return {"notify_time": local_time}


@blueprint.get("/notifications/")
@login_required
def inbox():
    query = inbox_query(current_user)
    before = request.args.get("before", "")
    if before.isdigit() and len(before) < 19:
        query = query.where(Notification.id < int(before))
    if request.args.get("unread") == "1":
        query = query.where(Notification.read_at.is_null())
    rows = list(query.order_by(Notification.id.desc()).limit(PAGE + 1))
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return render_template("notify/inbox.html", rows=rows, more=more, unread_only=request.args.get("unread") == "1",
                           next_before=rows[-1].id if more and rows else None, event_labels=EVENT_LABELS)


@blueprint.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id):
    with db.atomic():
        row = (inbox_query(current_user).where(Notification.id == notification_id).first()
               if notification_id < 2**63 else None)
        if row is not None and row.read_at is None:
            Notification.update(read_at=utcnow()).where(Notification.id == row.id).execute()
    target = ((row.payload or {}).get("url") if row is not None else None) if request.form.get("open") else None
    if row is None:
        flash(_("No such notification."), "error")
    return redirect(target if target and target.startswith("/") and not target.startswith("//")
                    else url_for("notify.inbox"))


@blueprint.post("/notifications/read-all")
@login_required
def read_all():
    with db.atomic():
        Notification.update(read_at=utcnow()).where(
            (Notification.recipient == current_user.id) & (Notification.channel == "inbox")
            & Notification.read_at.is_null()).execute()
    return redirect(url_for("notify.inbox"))


@blueprint.get("/notifications/unread-count")
@login_required
def unread():
    return jsonify({"unread": unread_count(current_user), "cap": UNREAD_CAP})


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class PreferenceForm(FlaskForm):
    events = MultiCheckboxField(_l("Notify me about"), choices=[])
    email = BooleanField(_l("Also by e-mail (to the address in my profile)"))
    quiet_start = StringField(_l("Quiet hours from (HH:MM)"),
                              validators=[Optional(), Regexp(HHMM, message=_l("Use HH:MM, e.g. 22:00."))])
    quiet_end = StringField(_l("Quiet hours until (HH:MM)"),
                            validators=[Optional(), Regexp(HHMM, message=_l("Use HH:MM, e.g. 07:30."))])


@blueprint.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    pref = preference(current_user)
    form = PreferenceForm()
    form.events.choices = [(name, str(label)) for name, label in EVENT_LABELS.items()]
    if request.method == "GET":
        form.events.data = [name for name in EVENT_LABELS if name not in (pref.muted_events or [])]
        form.email.data = "email" in (pref.channels or [])
        form.quiet_start.data, form.quiet_end.data = pref.quiet_start, pref.quiet_end
    elif form.validate_on_submit():
        if bool(form.quiet_start.data) != bool(form.quiet_end.data):
            form.quiet_end.errors = [_("Give both ends of the quiet hours, or neither.")]
        else:
            _save(pref, form)
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notify.preferences"))
    return render_template("notify/preferences.html", form=form, has_email=bool(current_user.email))


def _save(pref, form):
    chosen = set(form.events.data or [])
    values = {"muted_events": [name for name in EVENT_LABELS if name not in chosen],
              "channels": ["email"] if form.email.data else [], "quiet_start": form.quiet_start.data or "",
              "quiet_end": form.quiet_end.data or "", "updated_at": utcnow()}
    with db.atomic():
        stored = NotificationPreference.get_or_none(NotificationPreference.user == current_user.id)
        before = {} if stored is None else {name: getattr(stored, name) for name in values if name != "updated_at"}
        if stored is None:
            stored = NotificationPreference.create(user=current_user.id, **values)
        else:
            NotificationPreference.update(**values).where(NotificationPreference.id == stored.id).execute()
        after = {name: value for name, value in values.items() if name != "updated_at"}
        audit.record("update", stored, summary="notification preferences", changes=audit.model_changes(before, after))
    return pref
