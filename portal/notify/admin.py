"""Admin pages: the delivery queue (pending/failed/dead, retry now, test-send per channel), the
channel configurations (secrets write-only, shown masked) and the duty rosters."""

import json

from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_admin import BaseView
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import CharField
from peewee import TextField
from peewee import fn
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import ValidationError

from portal import audit
from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.admin import AccessMixin
from portal.admin import SecureModelView
from portal.notify import outbox
from portal.notify.events import EVENT_LABELS
from portal.notify.models import ChannelConfig
from portal.notify.models import DutyRoster
from portal.notify.models import JSONField
from portal.notify.models import Notification
from portal.permissions import VENDOR_ROLES
from portal.text import text_problem

CATEGORY = _l("Notifications")
QUEUE_STATUSES = ("pending", "sending", "failed", "dead")
QUEUE_PAGE = 100


def _check_text(form, model, skip=()):
    """The shared storable-text check of SecureModelView, leaving out JSON columns."""
    for name, field in model._meta.fields.items():
        value = getattr(model, name)
        if name in skip or isinstance(field, JSONField) or value is None:
            continue
        if isinstance(field, (CharField, TextField)):
            message = text_problem(value, field.max_length if isinstance(field, CharField) else None,
                                   multiline=isinstance(field, TextField))
            if message:
                raise ValidationError(f"{name}: {message}")


def _bad_strings(value, depth=0):
    """The first problem of a string inside a settings value (keys and values, nested), or None."""
    if depth > 10:
        return _("Settings are nested too deeply.")
    if isinstance(value, str):
        return text_problem(value, 2000, multiline=False)
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _bad_strings(key, depth + 1) or _bad_strings(item, depth + 1)
            if problem:
                return problem
    if isinstance(value, list):
        for item in value:
            problem = _bad_strings(item, depth + 1)
            if problem:
                return problem
    return None


class QueueView(AccessMixin, BaseView):
    """What waits, what failed and why, what gave up; retry now; test-send each channel."""

    resource = "notifications_admin"

    @expose("/")
    def index(self):
        status = request.args.get("status", "failed")
        status = status if status in QUEUE_STATUSES else "failed"
        # Counts over the (status, next_attempt_at) index: only the unfinished states, never 'sent'.
        counts = dict(Notification.select(Notification.status, fn.COUNT(Notification.id))
                      .where(Notification.status.in_(QUEUE_STATUSES)).group_by(Notification.status).tuples())
        rows = list(Notification.select().where(Notification.status == status)
                    .order_by(Notification.id.desc()).limit(QUEUE_PAGE))
        configs = list(ChannelConfig.select().order_by(ChannelConfig.name))
        names = {config.id: config.name for config in configs}
        return self.render("notify/queue.html", status=status, statuses=QUEUE_STATUSES, counts=counts, rows=rows,
                           configs=configs, config_names=names, mask=outbox.mask, event_labels=EVENT_LABELS)

    @expose("/retry/<int:notification_id>", methods=("POST",))
    def retry(self, notification_id):
        if outbox.retry_now(notification_id, user=current_user._get_current_object()):
            flash(_("Notification %(id)s is queued again.", id=notification_id), "success")
        else:
            flash(_("Notification %(id)s cannot be retried (it was sent, or does not exist).", id=notification_id),
                  "error")
        return redirect(url_for(".index", status=request.form.get("status", "failed")))

    @expose("/test/<int:config_id>", methods=("POST",))
    def test(self, config_id):
        """Send a test message through one configuration now (not in any transaction) and say
        exactly what went wrong when it fails."""
        config = ChannelConfig.get_or_none(ChannelConfig.id == config_id)
        if config is None:
            flash(_("No such channel configuration."), "error")
            return redirect(url_for(".index"))
        registry = outbox.channels()
        try:
            if config.kind not in registry:
                raise outbox.ChannelError(_("no channel called %(kind)s is installed", kind=config.kind))
            channel = registry.get(config.kind)
            problems = channel.validate(config.settings or {}, config.secret)
            if problems:
                raise outbox.ChannelError("; ".join(problems))
            channel.test(config)
        except Exception as error:  # every failure, whatever its kind, is shown to the admin
            message = outbox.describe(error)
            audit.record("test_send", config, summary=f"{config.name}: failed: {message}"[:2000])
            flash(_("Test message through %(name)s failed: %(error)s", name=config.name, error=message), "error")
        else:
            audit.record("test_send", config, summary=f"{config.name}: ok")
            flash(_("Test message sent through %(name)s.", name=config.name), "success")
        return redirect(url_for(".index"))


class ChannelConfigView(SecureModelView):
    """Channel configurations. The secret is write-only: shown masked, kept when left blank."""

    resource = "notification_channels"
    column_list = ("name", "kind", "organization", "enabled", "events", "secret", "updated_at")
    column_details_list = ("name", "kind", "organization", "enabled", "events", "settings", "secret", "updated_at")
    column_export_list = ("name", "kind", "organization", "enabled", "events", "updated_at")
    column_searchable_list = ()
    column_filters = ()
    form_columns = ("name", "kind", "organization", "enabled")
    form_overrides = {"kind": SelectField}
    form_extra_fields = {
        "settings_json": TextAreaField(_l("Settings (JSON)"), render_kw={"rows": 8}),
        "events_text": StringField(_l("Events (comma-separated; empty: all)")),
        "new_secret": PasswordField(_l("Secret (leave empty to keep the stored one)")),
    }
    column_labels = {"name": _l("Name"), "kind": _l("Channel"), "organization": _l("Organization"),
                     "enabled": _l("Enabled"), "events": _l("Events"), "secret": _l("Secret"),
                     "settings": _l("Settings"), "updated_at": _l("Updated")}

    def _secret_column(view, context, model, name):
        return outbox.mask(model.secret)

    def _json_column(view, context, model, name):
        return json.dumps(getattr(model, name), ensure_ascii=False)

    column_formatters = {"secret": _secret_column, "events": _json_column, "settings": _json_column}

    def limit_choices(self, form):
        form.kind.choices = [(name, name) for name, channel in outbox.channels().items() if name != outbox.INBOX]
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if request.method == "GET" and obj is not None:
            form.settings_json.data = json.dumps(obj.settings or {}, ensure_ascii=False, indent=2)
            form.events_text.data = ", ".join(obj.events or [])
        if obj is not None and obj.secret:
            form.new_secret.description = _("Stored: %(masked)s", masked=outbox.mask(obj.secret))
        return form

    def on_model_change(self, form, model, is_created):
        raw = form.settings_json.data or "{}"
        message = text_problem(raw, 20000, multiline=True)
        if message:
            raise ValidationError(_("Settings: %(problem)s", problem=message))
        try:
            settings = json.loads(raw)
        except ValueError as error:
            raise ValidationError(_("Settings are not valid JSON: %(error)s", error=error)) from None
        if not isinstance(settings, dict):
            raise ValidationError(_("Settings must be a JSON object, e.g. {\"url\": \"https://…\"}."))
        bad = _bad_strings(settings)
        if bad:
            raise ValidationError(_("Settings: %(problem)s", problem=bad))
        duplicate = ChannelConfig.select().where(ChannelConfig.name == (form.name.data or ""))
        if not is_created:
            duplicate = duplicate.where(ChannelConfig.id != model.id)
        if duplicate.exists():
            raise ValidationError(_("A channel configuration with this name exists already."))
        events = [name.strip() for name in (form.events_text.data or "").split(",") if name.strip()]
        unknown = [name for name in events if name not in EVENT_LABELS]
        if unknown:
            raise ValidationError(_("Unknown events: %(names)s (known: %(known)s)", names=", ".join(unknown)[:200],
                                    known=", ".join(EVENT_LABELS)))
        if form.new_secret.data:
            message = text_problem(form.new_secret.data, 500, multiline=False)
            if message:
                raise ValidationError(_("Secret: %(problem)s", problem=message))
            model.secret = form.new_secret.data
        model.settings, model.events = settings, events
        _check_text(form, model)
        registry = outbox.channels()
        if model.kind not in registry:
            raise ValidationError(_("No channel called %(kind)s is installed.", kind=model.kind))
        problems = registry.get(model.kind).validate(settings, model.secret)
        if problems:
            raise ValidationError("; ".join(problems))
        model.updated_at = outbox.utcnow()


class DutyRosterView(SecureModelView):
    """值班表: managers keep their vendor's roster; hospital IT and engineers read it."""

    resource = "duty_rosters"
    scope_fields = {"vendor": DutyRoster.vendor, "hospital": DutyRoster.hospital}
    column_list = ("vendor", "hospital", "engineer", "start_date", "end_date", "weekdays", "holidays", "note")
    form_columns = ("vendor", "hospital", "engineer", "start_date", "end_date", "weekdays", "holidays", "note")
    column_labels = {"vendor": _l("Vendor"), "hospital": _l("Hospital (empty: all)"), "engineer": _l("Engineer"),
                     "start_date": _l("Valid from"), "end_date": _l("Until"),
                     "weekdays": _l("Weekdays (1=Mon … 7=Sun)"), "holidays": _l("Statutory holidays"),
                     "note": _l("Note")}

    def limit_choices(self, form):
        """Offer only the caller's own vendor and its engineers (admins: everyone)."""
        if current_user.role != "admin":
            org = current_user.organization_id
            form.vendor.query = Organization.select().where(Organization.id == org)
            form.engineer.query = User.select().where((User.organization == org) & User.role.in_(VENDOR_ROLES))
        else:
            form.vendor.query = Organization.select().where(Organization.kind == "vendor")
            form.engineer.query = User.select().where(User.role.in_(VENDOR_ROLES))
        form.hospital.query = Organization.select().where(Organization.kind == "hospital")
        return form

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.weekdays and not set(model.weekdays) <= set("1234567"):
            raise ValidationError(_("Weekdays: digits 1 (Monday) to 7 (Sunday), e.g. 12345."))
        model.weekdays = "".join(sorted(set(model.weekdays or "")))
        if model.start_date and model.end_date and model.end_date < model.start_date:
            raise ValidationError(_("The roster ends before it starts."))
        engineer = User.get_or_none(User.id == model.engineer_id)
        if engineer is None or engineer.organization_id != model.vendor_id or engineer.role not in VENDOR_ROLES:
            raise ValidationError(_("The engineer must belong to the roster's vendor."))
        if current_user.role != "admin" and model.vendor_id != current_user.organization_id:
            raise ValidationError(_("You may keep only your own organisation's roster."))


def admin_views():
    return (
        ("notify_queue", lambda: QueueView(name=_l("Delivery queue"), category=CATEGORY, endpoint="notify_queue",
                                           url="/admin/notify/queue")),
        ("notify_channels", lambda: ChannelConfigView(ChannelConfig, name=_l("Channels"), category=CATEGORY,
                                                      endpoint="notify_channels")),
        ("notify_duty", lambda: DutyRosterView(DutyRoster, name=_l("Duty roster"), category=CATEGORY,
                                               endpoint="notify_duty")),
    )
