"""render_markdown is the only door to Markup: hostile Markdown must come out harmless."""

import html
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from markupsafe import Markup

from knowledge_base.render import MAX_SOURCE_BYTES
from knowledge_base.render import render_markdown
from knowledge_base.render import render_plain

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script\n>alert(1)</script\n>",
    "<ScRiPt>alert(1)",
    "<script",
    "<img src=x onerror=alert(1)>",
    "<img src=x OnErRoR=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<img src=x onerror\n=alert(1)>",
    "<img/src=x/onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<div onmouseover=alert(1)>hover</div>",
    '<a href="#" onclick="alert(1)">click</a>',
    "<p style=\"background:url('javascript:alert(1)')\">x</p>",
    "<div style=\"width: expression(alert(1));\">x</div>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<STYLE>@import 'http://evil.example/x.css';</STYLE>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114'
    '&#0000105&#0000112&#0000116&#0000058alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="DATA:text/html,<script>alert(1)</script>">x</a>',
    '<img src="javascript:alert(1)">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<img src="data:image/png;base64,iVBORw0KGgo=">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '<input onfocus=alert(1) autofocus>',
    '<details open ontoggle=alert(1)>',
    '<video><source onerror="alert(1)"></video>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<<img src=x onerror=alert(1)//<',
    "<img src=x onerror=alert(1)",
    '<a href="javascript&colon;alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '[click](javascript:alert(1) "title")',
    "[click](<javascript:alert(1)>)",
    "![img](javascript:alert(1))",
    "![img](data:image/png;base64,AAAA)",
    '![img](x "onerror=alert(1)")',
    '![x" onerror="alert(1)](x.png)',
    "[ref][xss]\n\n[xss]: javascript:alert(1)",
    "![ref][xss]\n\n[xss]: data:image/png;base64,AAAA",
    '[ref][xss]\n\n[xss]: JAVASCRIPT:alert(1) "t"',
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "<vbscript:msgbox(1)>",
    '[x](javascript://%0Aalert(1))',
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "    <script>alert(1)</script>",
    "# <script>alert(1)</script>",
    "# heading {: onclick=alert(1) }",
    "!!! note \"<script>alert(1)</script>\"\n    body",
    '!!! danger onclick="alert(1)"\n    body',
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <script>x</script> |",
    "- <a href='javascript:alert(1)'>item</a>",
    "> <iframe src=//evil.example></iframe>",
    "<div class=\"admonition\" id=\"csrf_token\" onclick=alert(1)>x</div>",
    '<a href="http://ok.example" onmouseover="alert(1)" target="_top">ok</a>',
    "<template><script>alert(1)</script></template>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<textarea><script>alert(1)</script></textarea>",
    "<xmp><script>alert(1)</script></xmp>",
]

FORBIDDEN_TAGS = {
    "script", "svg", "math", "iframe", "object", "embed", "style", "link", "meta", "base",
    "form", "input", "button", "textarea", "select", "video", "audio", "source", "template",
    "frame", "frameset", "noscript", "details",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "background"}
_NOISE = re.compile(r"[\x00-\x20\x7f]+")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_harmless(output):
    """Fail if rendered HTML could run script, whatever text the reader sees."""
    assert "<script" not in output.lower()
    collector = _Collector()
    collector.feed(str(output))
    collector.close()
    for tag, attrs in collector.tags:
        assert tag not in FORBIDDEN_TAGS, output
        for name, value in attrs:
            assert not name.startswith("on"), output
            assert name != "style", output
            if name in URL_ATTRIBUTES and value is not None:
                url = _NOISE.sub("", html.unescape(value)).lower()
                assert not url.startswith(("javascript:", "vbscript:", "data:")), output
            if name == "id":
                assert value.startswith("kb-"), output
        if tag == "a":
            assert ("rel", "noopener noreferrer") in attrs, output


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_is_neutralised(payload):
    assert_harmless(render_markdown(payload))


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_inside_an_article_is_neutralised(payload):
    assert_harmless(render_markdown(f"## 现象\n\n正文 {payload} 正文\n\n- 列表 {payload}\n"))


def test_there_are_many_payloads():
    assert len(XSS_PAYLOADS) >= 80


def test_every_naughty_string_renders_harmlessly(blns):
    for text in blns:
        assert_harmless(render_markdown(text))
        assert isinstance(render_plain(text), str)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_arbitrary_text_renders_harmlessly(text):
    assert_harmless(render_markdown(text))


def test_returns_markup():
    assert isinstance(render_markdown("**粗体**"), Markup)


def test_supported_markdown_survives_sanitizing():
    source = "\n".join([
        "[TOC]",
        "",
        "## 处理步骤",
        "",
        "| 列 | 值 |",
        "|:--|--:|",
        "| a | 1 |",
        "",
        "```sql",
        "SELECT 1 FROM dual;",
        "```",
        "",
        '!!! warning "注意"',
        "    先备份",
        "",
        "3. 第三步",
        "4. 第四步",
        "",
        '> 引用 [链接](https://example.com "标题") [相对](/kb/printer-offline)',
        "[邮件](mailto:it@example.com)",
        "",
        "![图](/static/a.png \"说明\")",
    ])  # fmt: skip
    output = str(render_markdown(source))
    assert '<h2 id="kb-处理步骤">处理步骤</h2>' in output
    assert '<div class="toc">' in output and 'href="#kb-处理步骤"' in output
    assert '<th align="left">列</th>' in output and '<td align="right">1</td>' in output
    assert '<code class="language-sql">' in output
    assert '<div class="admonition warning">' in output
    assert '<p class="admonition-title">注意</p>' in output
    assert '<ol start="3">' in output
    assert "<blockquote>" in output
    assert 'href="https://example.com"' in output and 'title="标题"' in output
    assert 'href="/kb/printer-offline"' in output
    assert 'href="mailto:it@example.com"' in output
    assert '<img alt="图" src="/static/a.png" title="说明">' in output


def test_raw_html_cannot_reuse_page_ids_or_unknown_classes():
    source = '<h2 id="csrf_token" class="btn">x</h2><div class="admonition modal">y</div>'
    output = str(render_markdown(source))
    assert 'id="kb-csrf_token"' in output
    assert "btn" not in output and "modal" not in output
    assert '<div class="admonition">' in output


def test_code_is_shown_escaped_not_executed():
    output = str(render_markdown("```html\n<script>alert(1)</script>\n```"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in output


def test_plugin_extension_output_is_still_sanitized():
    from markdown.extensions import Extension
    from markdown.postprocessors import Postprocessor

    class Inject(Postprocessor):
        def run(self, text):
            return text + '<script>alert(1)</script><a href="javascript:x" onclick="y">p</a>'

    class InjectExtension(Extension):
        def extendMarkdown(self, md):
            md.postprocessors.register(Inject(md), "inject", 0)

    output = render_markdown("正文", extensions=[InjectExtension()])
    assert_harmless(output)
    assert "正文" in output


def test_oversized_source_is_refused_clearly():
    with pytest.raises(ValueError, match="too large"):
        render_markdown("挂" * (MAX_SOURCE_BYTES // 3 + 1))
    with pytest.raises(ValueError, match="too large"):
        render_plain("a" * (MAX_SOURCE_BYTES + 1))


def test_source_just_under_the_cap_renders():
    assert render_markdown("a" * (MAX_SOURCE_BYTES - 10)).startswith("<p>")


def test_non_string_source_is_a_type_error():
    with pytest.raises(TypeError):
        render_markdown(b"bytes")


def test_control_characters_and_lone_surrogates_are_replaced():
    output = str(render_markdown("a\x02wzxhzdk:0\x03b \ud800 c\x00d"))
    assert "\x02" not in output and "\ud800" not in output and "\x00" not in output


def test_render_plain_strips_markup_and_keeps_words_apart():
    text = render_plain(
        "# 标题\n\n段落 **粗体** <b>HTML</b> [链接](http://x.example)\n\n"
        "|列一|列二|\n|-|-|\n|值一|值二|\n\n<script>alert(1)</script>\n"
    )
    assert "标题" in text and "粗体" in text and "HTML" in text and "链接" in text
    assert "列一\n列二" in text and "值一\n值二" in text
    assert "<" not in text and "*" not in text and "alert" not in text and "http" not in text


def test_render_plain_unescapes_entities():
    assert render_plain("a &amp; b < c") == "a & b < c"
