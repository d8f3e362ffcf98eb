"""Load untrusted YAML safely into plain JSON data plus a path → (line, column) map.

The order of the defences matters: the size cap runs before any parsing, the event pass
(aliases, nesting depth, node count, explicit tags) runs before composition, and the
expanded-size check runs on the composed graph before any Python object is built — so a
"billion laughs" document is refused in milliseconds.
"""

import math
import re
from dataclasses import dataclass
from dataclasses import field as dc_field

import yaml

from forms.errors import FormError
from forms.errors import Problem
from forms.errors import format_path
from forms.errors import msg

MAX_BYTES = 256 * 1024
MAX_ALIASES = 100
MAX_EVENTS = 50_000
MAX_NODES = 50_000
MAX_DEPTH = 50

_TAG = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_TAG + name for name in ("str", "int", "float", "bool", "null", "seq", "map")}


# libyaml's parser when PyYAML was built with it: the pure-Python scanner reads only tens of
# KB per second (bench/forms_bench.py: 1.3 s for a 27 KB, 300-field definition), libyaml
# about forty times faster. Both give the same events, nodes and marks.
_BASE = getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None


class _Loader(_BASE or yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans and dates left as strings."""


# YAML 1.1 reads `on`, `yes`, `no` as booleans (`on: submit` would become `True: submit`)
# and dates as datetime objects; keep only true/false and leave dates as ISO strings.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_TAG + "bool", _TAG + "timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass
class Loaded:
    """A loaded document: plain data and the 1-based (line, column) of every key and item."""

    data: object
    marks: dict = dc_field(default_factory=dict)

    def locate(self, path):
        """Return (line, column) for *path* or its nearest located ancestor."""
        return locate(self.marks, path)


def locate(marks, path):
    """Return (line, column) for *path* or its nearest located ancestor in *marks*."""
    path = tuple(path)
    while path:
        if path in marks:
            return marks[path]
        path = path[:-1]
    return marks.get((), (None, None))


def _refuse(message, mark=None, path=()):
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    problem = Problem(format_path(path), message, line, column)
    raise FormError("invalid_yaml", msg("YAML 文档无效", "invalid YAML document"), [problem])


def load_yaml(source, max_bytes=MAX_BYTES):
    """Parse *source* (str or bytes) into a Loaded; raise FormError with located problems."""
    raw = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else bytes(source)
    if len(raw) > max_bytes:
        _refuse(msg("文档过大：{size} 字节，上限 {cap} 字节",
                    "document too large: {size} bytes, the limit is {cap}",
                    size=len(raw), cap=max_bytes))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _refuse(msg("文档不是有效的 UTF-8（第 {pos} 字节）", "document is not valid UTF-8 (byte {pos})",
                    pos=exc.start))
    try:
        _scan_events(text)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return Loaded(None, {(): (1, 1)})
            _check_expanded_size(node)
            builder = _Builder(loader)
            data = builder.build(node, ())
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "nesting depth" in (exc.problem or ""):
            # LibYAML (PyYAML ≥ 6.0.4) stops a deep flow collection in its scanner, reading ahead
            # of the events _scan_events counts: the same refusal, in the same words.
            _refuse(_too_deep(), mark)
        problem = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        _refuse(msg("YAML 语法错误：{p}", "YAML syntax error: {p}", p=problem), mark)
    except yaml.YAMLError as exc:
        _refuse(msg("YAML 错误：{p}", "YAML error: {p}", p=str(exc).splitlines()[0]))
    if builder.problems:
        raise FormError("invalid_yaml", msg("YAML 文档无效", "invalid YAML document"), builder.problems)
    return Loaded(data, builder.marks)


def _too_deep():
    return msg("嵌套过深（上限 {n} 层）", "nesting too deep (limit {n})", n=MAX_DEPTH)


def _scan_events(text):
    """Refuse aliases over the cap, deep nesting, huge documents and custom tags, event by event."""
    aliases = events = depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        events += 1
        if events > MAX_EVENTS:
            _refuse(msg("文档节点过多（上限 {n}）", "too many nodes (limit {n})", n=MAX_EVENTS),
                    event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                _refuse(msg("别名（*alias）过多（上限 {n}）", "too many aliases (limit {n})", n=MAX_ALIASES),
                        event.start_mark)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                _refuse(_too_deep(), event.start_mark)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!" and tag not in _ALLOWED_TAGS:
            _refuse(msg("不允许的标签 {tag}", "tag {tag} is not allowed", tag=tag), event.start_mark)


def _check_expanded_size(root):
    """Count nodes as if every alias were expanded, memoised so the count itself stays cheap."""
    sizes = {}
    stack = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if ready or not children:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > MAX_NODES:
                _refuse(msg("展开后节点过多（上限 {n}），可能是别名炸弹", "document expands to too many nodes "
                            "(limit {n}); alias bomb?", n=MAX_NODES), node.start_mark)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node):
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class _Builder:
    """Build plain data from composed nodes, recording marks and refusing duplicate keys."""

    def __init__(self, loader):
        self.loader = loader
        self.marks = {}
        self.problems = []

    def _mark(self, path, node):
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node, path):
        if not path:
            self._mark(path, node)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, child in enumerate(node.value):
                self._mark(path + (index,), child)
                items.append(self.build(child, path + (index,)))
            return items
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, float) and not math.isfinite(value):
            self._problem(path, node, msg("不允许无穷大或 NaN", "infinite or NaN numbers are not allowed"))
        return value

    def _mapping(self, node, path):
        result = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self._problem(path, key_node, msg("不支持合并键 <<", "merge keys (<<) are not supported"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(path, key_node, msg("键必须是简单文本", "keys must be plain scalars"))
                continue
            key = key_node.value  # the key's text as written: `on`, `1` and `yes` stay strings
            if key in result:
                line = self.marks[path + (key,)][0]
                self._problem(path + (key,), key_node, msg(
                    "重复的键 '{key}'（首次出现在第 {line} 行）",
                    "duplicate key '{key}' (first defined on line {line})", key=key, line=line))
                continue
            self._mark(path + (key,), key_node)
            result[key] = self.build(value_node, path + (key,))
        return result

    def _problem(self, path, node, message):
        mark = node.start_mark
        self.problems.append(Problem(format_path(path), message, mark.line + 1, mark.column + 1))
