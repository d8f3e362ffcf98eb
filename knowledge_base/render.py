"""Markdown to safe HTML: the only place in Weibao that marks HTML as safe.

Python-Markdown passes raw HTML through and does not sanitize, so its output always goes through
nh3 with an explicit allow-list before it becomes ``Markup``. Extensions contributed by plugins
run inside Python-Markdown and their output meets the same allow-list: a plugin cannot widen it.
"""

import html
import re
from html.parser import HTMLParser

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode
from markupsafe import Markup

#: Largest Markdown source accepted, in UTF-8 bytes.
MAX_SOURCE_BYTES = 1024 * 1024

#: Heading ids get this prefix, so article HTML cannot clobber the page's own element ids.
ID_PREFIX = "kb-"

ALLOWED_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "div", "span",
    "strong", "em", "b", "i", "u", "s", "del", "ins", "mark", "sub", "sup", "small",
    "code", "pre", "kbd", "samp", "abbr",
    "ul", "ol", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
    "a", "img",
}  # fmt: skip

ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "abbr": {"title"},
    "ol": {"start"},
    "code": {"class"},
    "div": {"class"},
    "p": {"class"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}  # fmt: skip

# Attributes restricted to fixed values (nh3 needs these kept out of ALLOWED_ATTRIBUTES).
ALLOWED_ATTRIBUTE_VALUES = {
    "th": {"align": {"left", "center", "right"}},
    "td": {"align": {"left", "center", "right"}},
}

# The admonition extension's classes and the toc extension's container.
_DIV_CLASSES = {
    "admonition", "note", "tip", "hint", "important", "warning", "caution", "attention",
    "danger", "error", "toc",
}  # fmt: skip
_CODE_CLASS_RE = re.compile(r"^language-[a-z0-9_+#-]{1,30}$")

#: Schemes a link may use; images may use only the web ones. Relative URLs are allowed.
LINK_SCHEMES = {"http", "https", "mailto"}
IMAGE_SCHEMES = {"http", "https"}

# Removed together with everything inside them, not just unwrapped.
_DROP_WITH_CONTENT = {
    "script", "style", "svg", "math", "iframe", "object", "embed", "noscript", "template",
    "textarea", "select", "title", "xmp", "noembed", "noframes",
}  # fmt: skip

_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*):")
# Browsers ignore these inside a URL scheme ("java\tscript:"), so ignore them when checking.
_URL_NOISE_RE = re.compile(r"[\x00-\x20\x7f]+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _url_allowed(url, schemes):
    compact = _URL_NOISE_RE.sub("", html.unescape(url)).lower()
    match = _SCHEME_RE.match(compact)
    return match is None or match.group(1) in schemes


def _filter_attribute(tag, attribute, value):
    """Second line of defence after nh3's own scheme check, plus class and id rules."""
    if attribute == "href":
        return value if _url_allowed(value, LINK_SCHEMES) else None
    if attribute == "src":
        return value if _url_allowed(value, IMAGE_SCHEMES) else None
    if attribute == "id":
        return value if value.startswith(ID_PREFIX) else ID_PREFIX + value
    if attribute == "class":
        if tag == "code":
            allowed = [c for c in value.split() if _CODE_CLASS_RE.match(c)]
        elif tag == "div":
            allowed = [c for c in value.split() if c in _DIV_CLASSES]
        else:
            allowed = [c for c in value.split() if c == "admonition-title"]
        return " ".join(allowed) or None
    return value


def _slugify_heading(value, separator):
    return ID_PREFIX + slugify_unicode(value, separator)


def _check_source(text):
    if not isinstance(text, str):
        raise TypeError(f"Markdown source must be str, not {type(text).__name__}")
    if len(text) > MAX_SOURCE_BYTES or len(text.encode("utf-8", "surrogatepass")) > (
        MAX_SOURCE_BYTES
    ):
        raise ValueError(
            f"Markdown text is too large: the limit is {MAX_SOURCE_BYTES // 1024} KB"
        )
    # Control characters and lone surrogates have no business in an article; STX/ETX are
    # also Python-Markdown's own placeholder delimiters.
    return _CONTROL_RE.sub("\ufffd", text)


def _to_html(text, extensions):
    md = markdown.Markdown(
        extensions=[
            "tables",
            "fenced_code",
            "toc",
            "admonition",
            "sane_lists",
            *extensions,
        ],
        extension_configs={
            "tables": {"use_align_attribute": True},
            "toc": {"slugify": _slugify_heading},
        },
        output_format="html",
    )
    return md.convert(text)


def sanitize_html(fragment):
    """Clean an HTML fragment with the knowledge-base allow-list (returns str, not Markup)."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
        attribute_filter=_filter_attribute,
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text, extensions=()):
    """Render Markdown to sanitized HTML and mark it safe for templates."""
    source = _check_source(text)
    return Markup(sanitize_html(_to_html(source, list(extensions))))


_BLOCK_TAGS = {
    "p", "div", "br", "hr", "li", "tr", "td", "th", "pre", "blockquote", "table", "ul", "ol",
    "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def render_plain(text):
    """Return the article's readable text without Markdown or HTML, for indexing and snippets."""
    collector = _TextCollector()
    collector.feed(sanitize_html(_to_html(_check_source(text), [])))
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).splitlines())
    return "\n".join(line for line in lines if line)
