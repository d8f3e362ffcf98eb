"""Form-level parts of a definition: computed order, validations, workflow, actions, numbering,
settings and migrations. Each takes the schema Compiler to report problems through."""

import string

from forms.errors import format_path
from forms.errors import msg

ROLES = ("admin", "hospital_it", "reporter", "engineer", "manager")
NUMBERING_NAMES = ("year", "month", "day", "quarter", "seq")
SETTINGS = {"allow_draft": True, "edit_after_submit": False, "list_columns": [],
            "max_upload_mb": 10}
DEFAULT_WORKFLOW = {"initial": "submitted",
                    "states": {"submitted": {"label": {"zh": "已提交", "en": "Submitted"},
                                             "final": True}},
                    "transitions": []}


def computed_entries(c, raw):
    """Check the form-level computed list, declaring each key and queueing its expression."""
    if not isinstance(raw, list):
        c.fail(("computed",), "computed 必须是列表", "computed must be a list")
        return []
    out = []
    for index, item in enumerate(raw):
        path = ("computed", index)
        item = c.mapping(path, item, {"key", "expr", "store", "label", "unit"}, "计算项 / computed")
        if c.slug(path + ("key",), item.get("key"), reserved=True):
            c.declare(path + ("key",), item["key"])
        entry = {"key": item.get("key"), "path": path,
                 "label": c.label(path + ("label",), item.get("label")) or item.get("key"),
                 "store": c.flag(path + ("store",), item.get("store"), True)}
        if "unit" in item:
            entry["unit"] = item["unit"]
        if "expr" not in item:
            c.fail(path, "计算项需要 expr", "a computed value needs expr")
        c.expression(path + ("expr",), entry, "expr", item.get("expr"))
        out.append(entry)
    return out


def finish(c, doc, out):
    """Compile everything after sections and computed, then order the computed values."""
    out["validations"] = validations(c, doc.get("validations", []))
    out["workflow"] = workflow(c, doc.get("workflow"))
    c.check_expressions()
    out["computed"], out["computed_order"] = computed_order(c, out)
    out["actions"] = actions(c, doc.get("actions", []), out["workflow"])
    out["numbering"] = numbering(c, doc.get("numbering"))
    out["settings"] = settings(c, doc.get("settings", {}))
    out["migrations"] = migrations(c, doc.get("migrations"), out)
    c.check_expressions()  # the action parameters queued by actions()
    for entry in out["computed"]:
        entry["path"] = format_path(entry["path"])


def _cycle_order(graph):
    """Return (names in dependency order, None) or (None, the cycle as a list of names)."""
    done, order, on_stack = set(), [], []

    def visit(name):
        if name in on_stack:
            return on_stack[on_stack.index(name):] + [name]
        if name in done:
            return None
        on_stack.append(name)
        for dep in graph[name]:
            cycle = visit(dep)
            if cycle:
                return cycle
        on_stack.pop()
        done.add(name)
        order.append(name)
        return None

    for name in graph:
        cycle = visit(name)
        if cycle:
            return None, cycle
    return order, None


def computed_order(c, out):
    """Order form-level computed values (and computed fields) by dependency; refuse cycles."""
    exprs, paths = {}, {}
    for entry in out["computed"]:
        exprs[entry["key"]], paths[entry["key"]] = entry.get("expr"), entry["path"]
    for section in out["sections"]:
        if section["type"] == "fields":
            for field in section["fields"]:
                if field["type"] == "computed":
                    exprs[field["key"]], paths[field["key"]] = field.get("expr"), (field["path"],)
        elif section["type"] == "repeat":
            _row_order(c, section, set(exprs) | {e["key"] for e in out["computed"]})
    graph = {name: [dep for dep in (expr or {}).get("deps", []) if dep in exprs]
             for name, expr in exprs.items()}
    order, cycle = _cycle_order(graph)
    if cycle:
        c.fail(paths[cycle[0]], "计算项之间存在循环依赖：{c}", "computed values form a cycle: {c}",
               c=" → ".join(cycle))
        return out["computed"], []
    rank = {name: index for index, name in enumerate(order)}
    return sorted(out["computed"], key=lambda e: rank.get(e["key"], 0)), order


def _row_order(c, section, form_computed):
    where = next(p for p, key in c.repeat_at.items() if key == section["key"]) + ("fields",)
    fields = {f["key"]: f for f in section["fields"] if f["type"] == "computed"}
    graph = {}
    for key, field in fields.items():
        deps = (field.get("expr") or {}).get("deps", [])
        for dep in deps:
            if dep in form_computed:
                c.fail(where, "{p} 不能引用表单级计算项 {d}", "{p} cannot use the form-level "
                       "computed value {d}", p=field["path"], d=dep)
        graph[key] = [d[4:] for d in deps if d.startswith("row.") and d[4:] in fields]
    order, cycle = _cycle_order(graph)
    if cycle:
        c.fail(where, "{s} 的计算字段存在循环依赖：{c}", "computed fields of {s} form a cycle: {c}",
               s=section["key"], c=" → ".join(cycle))
    section["computed_order"] = order or []


def validations(c, raw):
    if not isinstance(raw, list):
        c.fail(("validations",), "validations 必须是列表", "validations must be a list")
        return []
    out = []
    for index, rule in enumerate(raw):
        path = ("validations", index)
        rule = c.mapping(path, rule, {"expr", "field", "message"}, "校验 / a validation")
        target = rule.get("field", "")
        if target and target not in c.top:
            c.fail(path + ("field",), "未知字段 '{f}'", "unknown field '{f}'", f=target)
        message = c.label(path + ("message",), rule.get("message"), True)
        entry = {"field": target, "message": message}
        c.expression(path + ("expr",), entry, "expr", rule.get("expr"))
        if "expr" not in rule:
            c.fail(path, "校验需要 expr", "a validation needs expr")
        out.append(entry)
    return out


def workflow(c, raw):
    if raw is None:
        return {**DEFAULT_WORKFLOW, "states": dict(DEFAULT_WORKFLOW["states"])}
    path = ("workflow",)
    raw = c.mapping(path, raw, {"initial", "states", "transitions"}, "workflow")
    states = {}
    raw_states = raw.get("states")
    if not isinstance(raw_states, dict) or not raw_states:
        c.fail(path + ("states",), "states 必须是非空映射", "states must be a non-empty mapping")
        raw_states = {}
    for name, spec in raw_states.items():
        spath = path + ("states", name)
        c.slug(spath, name)
        spec = c.mapping(spath, {} if spec is None else spec, {"label", "final"}, "状态 / a state")
        states[name] = {"label": c.label(spath + ("label",), spec.get("label")) or name,
                        "final": c.flag(spath + ("final",), spec.get("final"))}
    initial = raw.get("initial")
    if initial not in states:
        c.fail(path + ("initial",), "初始状态 '{s}' 不在 states 中",
               "initial state '{s}' is not in states", s=initial)
    transitions, seen = [], set()
    raw_transitions = raw.get("transitions", [])
    if not isinstance(raw_transitions, list):
        c.fail(path + ("transitions",), "transitions 必须是列表", "transitions must be a list")
        raw_transitions = []
    for index, item in enumerate(raw_transitions):
        transitions.append(_transition(c, path + ("transitions", index), item, states, seen))
    return {"initial": initial, "states": states, "transitions": transitions}


def _transition(c, path, item, states, seen):
    item = c.mapping(path, item, {"action", "from", "to", "roles", "condition", "comment_required",
                                  "label"}, "流转 / a transition")
    action = item.get("action")
    c.slug(path + ("action",), action)
    sources = item.get("from")
    sources = sources if isinstance(sources, list) else [sources]
    for source in sources:
        if source not in states:
            c.fail(path + ("from",), "未知状态 '{s}'", "unknown state '{s}'", s=source)
        elif states[source]["final"]:
            c.fail(path + ("from",), "终态 '{s}' 不能再流转", "final state '{s}' has no transitions",
                   s=source)
        if (action, source) in seen:
            c.fail(path, "动作 '{a}' 从 '{s}' 出发的流转重复", "duplicate transition '{a}' from '{s}'",
                   a=action, s=source)
        seen.add((action, source))
    if item.get("to") not in states:
        c.fail(path + ("to",), "未知状态 '{s}'", "unknown state '{s}'", s=item.get("to"))
    roles = item.get("roles")
    if not isinstance(roles, list) or not roles or any(role not in ROLES for role in roles):
        c.fail(path + ("roles",), "roles 必须是以下角色的非空列表：{r}",
               "roles must be a non-empty list of: {r}", r=", ".join(ROLES))
        roles = []
    entry = {"action": action, "from": sources, "to": item.get("to"), "roles": list(roles),
             "label": c.label(path + ("label",), item.get("label")) or action,
             "comment_required": c.flag(path + ("comment_required",), item.get("comment_required"))}
    c.expression(path + ("condition",), entry, "condition", item.get("condition"))
    return entry


def actions(c, raw, flow):
    if not isinstance(raw, list):
        c.fail(("actions",), "actions 必须是列表", "actions must be a list")
        return []
    events = {"submit"} | {"transition:" + t["action"] for t in flow["transitions"]}
    out = []
    for index, item in enumerate(raw):
        path = ("actions", index)
        item = c.mapping(path, item, {"on", "run", "with"}, "动作 / an action")
        if item.get("on") not in events:
            c.fail(path + ("on",), "on 必须是 submit 或 transition:<已定义的动作>，得到 '{o}'",
                   "on must be submit or transition:<a defined action>, got '{o}'",
                   o=item.get("on"))
        if item.get("run") not in c.env.actions:
            c.fail(path + ("run",), "未注册的动作 '{r}'", "unknown action '{r}'", r=item.get("run"))
        params = item.get("with", {})
        if not isinstance(params, dict):
            c.fail(path + ("with",), "with 必须是映射", "with must be a mapping")
            params = {}
        _action_expressions(c, path, item.get("run"), params)
        out.append({"on": item.get("on"), "run": item.get("run"), "with": params})
    return out


def _action_expressions(c, path, run, params):
    """Check `when` (any action) and the expression parameters the registered action declares."""
    names = {"when"}
    registered = c.env.actions
    if hasattr(registered, "get") and run in registered:
        names |= set(getattr(registered.get(run), "expression_params", ()))
    for name in sorted(names & set(params)):
        value = params[name]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and name != "when":
            continue
        c.expression(path + ("with", name), {}, name, value)


def numbering(c, template):
    if template is None:
        return None
    path = ("numbering",)
    problem = msg("编号模板只能使用 {{year}} {{month}} {{day}} {{quarter}} {{seq:04}}，且必须包含 {{seq}}",
                  "numbering may only use {{year}} {{month}} {{day}} {{quarter}} {{seq:04}} "
                  "and must contain {{seq}}")
    if not isinstance(template, str) or not 0 < len(template) <= 64:
        c.add(path, problem)
        return None
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        c.add(path, problem)
        return None
    names = [name for _, name, spec, conv in parts if name is not None]
    specs_ok = all(conv is None and (not spec or spec.isdigit() and len(spec) <= 2)
                   for _, name, spec, conv in parts if name is not None)
    if not specs_ok or names.count("seq") != 1 or any(n not in NUMBERING_NAMES for n in names):
        c.add(path, problem)
        return None
    return template


def settings(c, raw):
    raw = c.mapping(("settings",), raw, set(SETTINGS), "settings")
    out = dict(SETTINGS)
    for key in ("allow_draft", "edit_after_submit"):
        out[key] = c.flag(("settings", key), raw.get(key), SETTINGS[key])
    columns = raw.get("list_columns", [])
    if not isinstance(columns, list) or any(col not in c.top for col in columns):
        c.fail(("settings", "list_columns"), "list_columns 必须是已定义字段的列表",
               "list_columns must be a list of defined fields")
    else:
        out["list_columns"] = columns
    size = raw.get("max_upload_mb", SETTINGS["max_upload_mb"])
    if not isinstance(size, (int, float)) or isinstance(size, bool) or not 0 < size <= 100:
        c.fail(("settings", "max_upload_mb"), "max_upload_mb 必须在 0–100 之间",
               "max_upload_mb must be above 0 and at most 100")
    else:
        out["max_upload_mb"] = size
    return out


def migrations(c, raw, out):
    if raw is None:
        return None
    path = ("migrations",)
    raw = c.mapping(path, raw, {"from", "rename", "map_values", "transform", "drop"}, "migrations")
    source = raw.get("from")
    version = out["version"] if isinstance(out["version"], int) else 0
    if not isinstance(source, int) or isinstance(source, bool) or not 1 <= source < version:
        c.fail(path + ("from",), "from 必须是小于当前 version 的版本号",
               "from must be a version number below this version")
    known = set(c.top) | {f"{s}[].{f}" for s, rows in c.rows.items() for f in rows}
    block = {"from": source, "rename": {}, "map_values": {}, "transform": {}, "drop": []}
    for key in ("rename", "map_values", "transform"):
        value = raw.get(key, {})
        if not isinstance(value, dict):
            c.fail(path + (key,), "{k} 必须是映射", "{k} must be a mapping", k=key)
            continue
        for name, target in value.items():
            checked = target if key == "rename" else name
            if checked not in known:
                c.fail(path + (key, name), "'{f}' 不是本版本的字段", "'{f}' is not a field of this version",
                       f=checked)
            if key == "map_values" and not isinstance(target, dict):
                c.fail(path + (key, name), "需要 旧值: 新值 映射", "needs an old: new mapping")
            elif key == "transform":
                c.expression(path + (key, name), block[key], name, target, names=False)
            else:
                block[key][name] = target
    drop = raw.get("drop", [])
    if not isinstance(drop, list) or not all(isinstance(name, str) for name in drop):
        c.fail(path + ("drop",), "drop 必须是字段名列表", "drop must be a list of field names")
    else:
        block["drop"] = drop
    c.check_expressions()
    return block

