"""A campaign body written in Markdown, turned into the HTML the campaign template
inlines with `|safe`.

CommonMark with raw HTML switched off: whatever an editor (or a pasted document) puts
in `<script>`, `<iframe>` or an `onerror=` attribute comes out as escaped text, and
markdown-it's own link check drops `javascript:`, `vbscript:` and `data:` (non-image)
URLs. Its output then passes the same allow-list every stored body does
(newsletters/sanitise.py: links get `rel`, http images and relative links go), so the
console's live preview is exactly the HTML that will be stored and mailed. The Markdown
source is kept as the campaign's text part, where it reads as plain text and lets a
draft be edited again.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from membership.newsletters.sanitise import sanitise_html

_MD = MarkdownIt("commonmark", {"html": False})


def to_html(source: str) -> str:
    """Sanitised HTML of a Markdown body (no raw HTML passes)."""
    return sanitise_html(_MD.render(source))
