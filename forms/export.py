"""CSV and XLSX exports of a form type's submissions over every published version.

The columns are the union of the fields of all versions (newest first, then fields only older
versions had), so a field removed or renamed later keeps its column for old submissions.
Each value is shown with the submission's own version; cells a spreadsheet would run as a
formula are neutralised.
"""

import csv
import io
from zoneinfo import ZoneInfo

from flask import current_app

from forms import display
from forms.errors import text
from forms.models import FormSubmission
from forms.models import FormVersion
from portal.admin import neutralise_formula

MAX_ROWS = 20_000


def columns(form_type, locale):
    """[(column id, header)] over every non-draft version of *form_type*."""
    out, seen = [], set()
    versions = (FormVersion.select().where((FormVersion.form_type == form_type)
                                           & (FormVersion.status != "draft"))
                .order_by(FormVersion.version.desc()))
    for version in versions:
        compiled = version.compiled
        for section in compiled["sections"]:
            if section["type"] == "checklist":
                for row in section["rows"]:
                    _add(out, seen, f"{section['key']}.{row['key']}",
                         f"{text(section['title'], locale)}：{text(row['label'], locale)}")
            elif section["type"] == "repeat":
                _add(out, seen, section["key"], text(section["title"], locale))
            else:
                for spec in section["fields"]:
                    if spec["type"] != "note":
                        _add(out, seen, spec["key"], text(spec["label"], locale))
        for entry in compiled["computed"]:
            _add(out, seen, entry["key"], text(entry.get("label") or entry["key"], locale))
    return out


def _add(out, seen, key, header):
    if key not in seen:
        seen.add(key)
        if any(existing == header for _, existing in out):
            header = f"{header} ({key})"  # a label shared by two fields (often a renamed one)
        out.append((key, header))


def _specs(compiled):
    specs = {}
    for section in compiled["sections"]:
        if section["type"] == "fields":
            for spec in section["fields"]:
                specs[spec["key"]] = ("field", spec)
        elif section["type"] == "repeat":
            specs[section["key"]] = ("repeat", section)
        else:
            for row in section["rows"]:
                specs[f"{section['key']}.{row['key']}"] = ("check", section)
    return specs


def _cell(compiled, specs, key, data, computed, lookups, locale):
    kind, spec = specs.get(key, (None, None))
    if kind is None:
        value = computed.get(key, data.get(key))
        return "" if value is None else value if isinstance(value, (int, float, str)) else str(value)
    if kind == "check":
        section_key, row_key = key.split(".", 1)
        answer = (data.get(section_key) or {}).get(row_key)
        return display.choice_label(compiled, spec["choices"], answer, locale)
    if kind == "repeat":
        lines = []
        for row in data.get(key) or []:
            parts = [f"{text(f['label'], locale)}={display.show(compiled, f, row.get(f['key']), lookups, locale)}"
                     for f in spec["fields"] if f["type"] != "note" and row.get(f["key"]) is not None]
            lines.append("; ".join(parts))
        return " | ".join(lines)
    value = computed.get(key) if spec["type"] == "computed" else data.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and spec["type"] in (
            "integer", "decimal", "computed"):
        return value
    return display.show(compiled, spec, value, lookups, locale)


def rows(form_type, query, locale):
    """Yield the header row, then one row per submission of *query*."""
    cols = columns(form_type, locale)
    head = ["编号", "版本", "状态", "合同", "创建时间"] if locale.startswith("zh") else \
        ["Number", "Version", "State", "Contract", "Created at"]
    yield head + [header for _, header in cols]
    submissions = list(query.where(FormSubmission.form_type == form_type)
                       .order_by(FormSubmission.id).limit(MAX_ROWS))
    by_version = {}
    for submission in submissions:
        by_version.setdefault(submission.version_id, []).append(submission)
    tz = ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
    versions = {v.id: v for v in FormVersion.select().where(FormVersion.id << list(by_version))}
    lookups = {}
    for version_id, items in by_version.items():
        users, systems = display.referenced_ids(versions[version_id].compiled,
                                                [s.data for s in items])
        lookups[version_id] = display.Lookups(users, systems)
    for submission in submissions:
        compiled = versions[submission.version_id].compiled
        specs = _specs(compiled)
        data, computed = submission.data, submission.computed
        state = compiled["workflow"]["states"].get(submission.state, {})
        row = [submission.number, versions[submission.version_id].version,
               text(state.get("label") or submission.state, locale),
               submission.contract.number if submission.contract_id else "",
               submission.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")]
        row += [_cell(compiled, specs, key, data, computed, lookups[submission.version_id], locale)
                for key, _ in cols]
        yield [neutralise_formula(value) for value in row]


def to_csv(table):
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM
    writer = csv.writer(buffer)
    for row in table:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def to_xlsx(table, title="submissions"):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for row in table:
        sheet.append([_xlsx_safe(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_safe(value):
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value
