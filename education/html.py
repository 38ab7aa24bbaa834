"""Article HTML: every body sanitized with one allow-list, and a body's plain text for ranking.

No ORM here. Imported blog posts are untrusted HTML; the allow-list is small on purpose (no images, no tables, no
styles, no classes): an article page loads nothing from elsewhere and looks like the rest of the clinic's pages.
"""

from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = frozenset(
    {"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "b", "i", "a", "blockquote", "br", "code", "pre", "hr"}
)
# Tags whose content goes too: a script's text or a form's labels are no part of the article.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "form", "iframe", "noscript", "template", "textarea", "select", "button", "svg", "object"}
)
_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={"a": {"href", "title"}},
    url_schemes={"http", "https", "mailto", "tel"},
    link_rel="noopener noreferrer nofollow",
)
# The elements that make a block of an article (the importer keeps each as one); the plain text breaks a line at
# these and at list items, line breaks and divs.
BLOCK_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre", "hr"})
_LINE_BREAKS = BLOCK_TAGS | {"li", "br", "div"}


def html_sanitize(fragment: str) -> str:
    return _CLEANER.clean(fragment).strip()


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _LINE_BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _LINE_BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(fragment: str) -> str:
    """The words of an HTML fragment, a blank line between blocks, entities decoded."""
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).split("\n"))
    return "\n".join(line for line in lines if line)
