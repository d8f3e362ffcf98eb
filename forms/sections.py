"""Choice lists, sections and fields of a definition; each function reports through the
schema Compiler *c*."""

from forms.errors import format_path
from forms.fields import Invalid

SECTION_KEYS = {
    "fields": {"key", "title", "description", "visible_if", "type", "fields"},
    "repeat": {"key", "title", "description", "visible_if", "type", "fields", "min", "max"},
    "checklist": {"key", "title", "description", "visible_if", "type", "rows", "choices",
                  "required"},
}
_SCALAR = (str, int, float)
PLAIN_KEYS = frozenset({"key", "type", "label", "hint", "required", "readonly", "store", "default",
                        "validate", "choices", "expr"})


def choices(c, raw):
    if not isinstance(raw, dict):
        c.fail(("choices",), "choices 必须是映射", "choices must be a mapping")
        return {}
    out = {}
    for name, items in raw.items():
        path = ("choices", name)
        if not c.slug(path, name):
            continue  # the bad name is reported; its items are not looked at
        if not isinstance(items, list) or not items:
            c.fail(path, "选项列表必须是非空列表", "a choice list must be a non-empty list")
            continue
        out[name] = []
        for index, item in enumerate(items):
            choice(c, path + (index,), item, out[name])
    return out


def choice(c, path, item, seen):
    if isinstance(item, _SCALAR) and not isinstance(item, bool):
        item = {"value": item}
    if not isinstance(item, dict) or not isinstance(item.get("value"), _SCALAR) \
            or isinstance(item.get("value"), bool):
        c.fail(path, "选项必须是值或 {{value, label, …}}", "a choice is a value or {{value, label, …}}")
        return None
    choice = {"value": item["value"], "label": item.get("label", str(item["value"]))}
    c.label(path + ("label",), choice["label"])
    if any(c["value"] == choice["value"] for c in seen):
        c.fail(path, "重复的选项值 {v!r}", "duplicate choice value {v!r}", v=choice["value"])
    for attr, value in item.items():
        if attr in ("value", "label"):
            continue
        c.slug(path + (attr,), attr)
        if attr == "score" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            c.fail(path + (attr,), "score 必须是数字", "score must be a number")
        elif not isinstance(value, (str, int, float, bool, type(None))):
            c.fail(path + (attr,), "选项属性必须是简单值", "a choice attribute must be a scalar")
        choice[attr] = value
    seen.append(choice)
    return choice


def sections(c, raw, choices):
    if not isinstance(raw, list) or not raw:
        c.fail(("sections",), "sections 必须是非空列表", "sections must be a non-empty list")
        return []
    out, keys = [], {}
    for index, section in enumerate(raw):
        path = ("sections", index)
        if not isinstance(section, dict):
            c.fail(path, "节必须是映射", "a section must be a mapping")
            continue
        kind = section.get("type", "fields")
        if kind not in SECTION_KEYS:
            c.fail(path + ("type",), "未知的节类型 '{t}'（可用：repeat、checklist）",
                      "unknown section type '{t}' (use repeat or checklist)", t=kind)
            continue
        c.mapping(path, section, SECTION_KEYS[kind], "节 / a section")
        key = section.get("key")
        if c.slug(path + ("key",), key, reserved=True):
            if key in keys:
                c.fail(path + ("key",), "重复的节键 '{k}'", "duplicate section key '{k}'", k=key)
            keys[key] = path
        compiled = {"key": key, "type": kind, "path": path,
                    "title": c.label(path + ("title",), section.get("title"), required=True),
                    "description": c.label(path + ("description",), section.get("description"))}
        c.expression(path + ("visible_if",), compiled, "visible_if", section.get("visible_if"))
        if kind == "checklist":
            checklist(c, path, section, compiled, choices)
        else:
            if kind == "repeat":
                repeat_bounds(c, path, section, compiled)
                c.declare(path + ("key",), key)
            compiled["fields"] = fields(c, path, section.get("fields"), compiled, choices)
        compiled["path"] = format_path(path)
        out.append(compiled)
    return out


def repeat_bounds(c, path, section, compiled):
    for key, default in (("min", 0), ("max", 100)):
        value = section.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
            c.fail(path + (key,), "{k} 必须是 0–1000 的整数", "{k} must be an integer 0-1000", k=key)
            value = default
        compiled[key] = value
    if compiled["min"] > compiled["max"]:
        c.fail(path + ("max",), "max 不能小于 min", "max must not be less than min")
    c.rows[section.get("key")] = {}
    c.repeat_at[path] = section.get("key")


def checklist(c, path, section, compiled, choices):
    c.declare(path + ("key",), section.get("key"))
    name = section.get("choices")
    if name not in choices:
        c.fail(path + ("choices",), "未知的选项列表 '{n}'", "unknown choice list '{n}'", n=name)
    compiled["choices"] = name
    compiled["required"] = c.flag(path + ("required",), section.get("required"))
    rows, seen = section.get("rows"), set()
    if not isinstance(rows, list) or not rows:
        c.fail(path + ("rows",), "检查表需要非空的 rows 列表", "a checklist needs a non-empty rows list")
        rows = []
    compiled["rows"] = []
    for index, row in enumerate(rows):
        row_path = path + ("rows", index)
        row = c.mapping(row_path, row, {"key", "label", "hint"}, "检查项 / a checklist row")
        if c.slug(row_path + ("key",), row.get("key")):
            if row["key"] in seen:
                c.fail(row_path + ("key",), "重复的检查项 '{k}'", "duplicate row key '{k}'", k=row["key"])
            seen.add(row["key"])
        compiled["rows"].append({"key": row.get("key"),
                                 "label": c.label(row_path + ("label",), row.get("label"), True),
                                 "hint": c.label(row_path + ("hint",), row.get("hint"))})


def fields(c, path, raw, section, choices):
    if not isinstance(raw, list) or not raw:
        c.fail(path + ("fields",), "fields 必须是非空列表", "fields must be a non-empty list")
        return []
    rows = c.rows.get(section["key"]) if section["type"] == "repeat" else None
    out = []
    for index, spec in enumerate(raw):
        compiled = field(c, path + ("fields", index), spec, section, rows, choices)
        if compiled is not None:
            out.append(compiled)
    return out


def field(c, path, spec, section, rows, choices):
    if not isinstance(spec, dict):
        c.fail(path, "字段必须是映射", "a field must be a mapping")
        return None
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in c.env.field_types:
        c.fail(path + ("type",), "未知的字段类型 '{t}'", "unknown field type '{t}'", t=kind)
        return None
    ftype = c.env.field_types.get(kind)
    c.mapping(path, spec, ftype.keys, f"{kind} 字段 / a {kind} field")
    key = spec.get("key")
    valid = c.slug(path + ("key",), key, reserved=True)
    if valid and (ftype.has_value or kind == "computed"):
        c.declare(path + ("key",), key, rows)
    prefix = f"{section['key']}[]." if rows is not None else ""
    field = {"key": key, "type": kind, "path": prefix + str(key), "section": section["key"],
             "label": c.label(path + ("label",), spec.get("label")) or key,
             "hint": c.label(path + ("hint",), spec.get("hint"))}
    for flag in ("required", "readonly"):
        field[flag] = c.flag(path + (flag,), spec.get(flag))
    field["store"] = c.flag(path + ("store",), spec.get("store"), True)
    for problem_key, message in ftype.check_spec(spec):
        c.add(path + (problem_key,), message)
    for key_name in ftype.keys - PLAIN_KEYS:
        if key_name in spec and not key_name.endswith("_if"):
            field[key_name] = spec[key_name]
    for cond in ("visible_if", "required_if", "readonly_if"):
        c.expression(path + (cond,), field, cond, spec.get(cond), rows is not None)
    if ftype.choices:
        name = spec.get("choices")
        if name is None and ftype.choices == "required":
            c.fail(path + ("choices",), "{t} 字段需要 choices", "a {t} field needs choices", t=kind)
        elif name is not None and name not in choices:
            c.fail(path + ("choices",), "未知的选项列表 '{n}'", "unknown choice list '{n}'", n=name)
        field["choices"] = name
    if kind == "computed":
        if "expr" not in spec:
            c.fail(path, "计算字段需要 expr", "a computed field needs expr")
        c.expression(path + ("expr",), field, "expr", spec.get("expr"), rows is not None)
    default(c, path + ("default",), spec, field, ftype, choices, rows is not None)
    field["validate"] = validate_rules(c, path + ("validate",), spec.get("validate"),
                                            rows is not None)
    return field


def default(c, path, spec, field, ftype, choices, in_row):
    if "default" not in spec:
        return
    value = spec["default"]
    if isinstance(value, dict) and set(value) == {"expr"}:
        field["default"] = {}
        c.expression(path + ("expr",), field["default"], "expr", value["expr"], in_row)
        return
    try:
        field["default"] = ftype.clean(value, spec, choices.get(spec.get("choices")))
    except Invalid as exc:
        c.add(path, exc.message)


def validate_rules(c, path, raw, in_row):
    if raw is None:
        return []
    if not isinstance(raw, list):
        c.fail(path, "validate 必须是列表", "validate must be a list")
        return []
    out = []
    for index, rule in enumerate(raw):
        rule = c.mapping(path + (index,), rule, {"expr", "message"}, "校验规则 / a rule")
        compiled = {"message": c.label(path + (index, "message"), rule.get("message"), True)}
        c.expression(path + (index, "expr"), compiled, "expr", rule.get("expr"), in_row,
                        value=True)
        out.append(compiled)
    return out
