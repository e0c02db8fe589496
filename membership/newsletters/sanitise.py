"""The one allow-list a campaign's HTML passes before it is stored (and once more when it
is shown or mailed).

Why: the HTML part is rendered by every reader's mail client (webmail runs inside a
browser, next to the reader's session with their mail provider) and by the staff
console's preview, inside a staff member's signed-in browser. The staff API accepted any
HTML, so a pasted or hostile body could carry `<script>`, `onerror=` handlers,
`javascript:` links, forms posting elsewhere or iframes to every subscriber. Ammonia
(through `nh3`) parses the HTML as a browser would and keeps only what a newsletter
needs: headings, paragraphs, lists, emphasis, quotes, code, rules, tables, links
(http, https, mailto; each with `rel="noopener noreferrer"`) and images served over
https. No inline style, classes or ids: the campaign template's own CSS styles the body.
Relative URLs are dropped: in a mail they point nowhere.

The text part is the author's own plain text (the Markdown source, from the console) and
is never parsed as HTML, so it is left as written.
"""

from __future__ import annotations

import nh3

TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "div", "span",
    "ul", "ol", "li", "dl", "dt", "dd",
    "a", "img", "figure", "figcaption",
    "em", "strong", "b", "i", "u", "s", "del", "ins", "small", "sub", "sup", "mark",
    "blockquote", "q", "cite", "code", "pre", "kbd", "abbr",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col",
})
# Dropped with everything inside them (not just the tags): their content is code or
# another document, never text a reader should see.
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "noscript", "template",
                                  "frame", "frameset", "applet"})
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "col": {"span"},
    "colgroup": {"span"},
    "abbr": {"title"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def _attribute(element: str, attribute: str, value: str) -> str | None:
    """Images only from https: an http image is mixed content in webmail and tells a
    network observer who opened the mail."""
    if element == "img" and attribute == "src" and not value.strip().lower().startswith("https://"):
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    attribute_filter=_attribute, url_schemes=set(URL_SCHEMES), url_relative="deny",
    link_rel="noopener noreferrer", strip_comments=True,
)


def sanitise_html(html: str) -> str:
    """`html` with everything outside the allow-list removed (text kept, markup dropped;
    script and the like dropped whole). Idempotent: cleaning clean HTML changes nothing."""
    return _CLEANER.clean(html)
