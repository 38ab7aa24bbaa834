"""Turning a clinic's blog export (.md, .html or .txt) into an article: parse, repair, clean, describe. No ORM here.

`article_file_parse(path)` gives an `ImportedArticle` (title, slug, summary, sanitized body, reading time, topics and
what was removed); `education.services.article_import` stores it, idempotently by its source.

The source, what makes importing the same post again an update, is (first found): the front matter's `source:`, the
HTML page's canonical address (or og:url), else "slug:" and the post's slug (the front matter's `slug:`, else made
from the title). Never the file's name or folder: the same export imported again from another folder updates the
same articles, and two posts that are both called `index.md` stay two articles. A post retitled without a `slug:`
or `source:` becomes a new article.

The steps, in order:
1. decode (UTF-8, else Windows-1252) and repair mojibake: UTF-8 bytes that an exporter decoded with the wrong
   codepage ("solutionsโ€”like" for "solutions—like": Windows-874, the Thai codepage; "donâ€™t": Windows-1252);
2. split into blocks (paragraphs, headings, lists) and find the title;
3. strip page furniture: the comment form and what follows it, sidebar widgets, share buttons, "Posted by" lines,
   cookie notices, placeholder lorem ipsum;
4. sanitize the HTML, write a summary, count the reading time, suggest topics from the vocabulary.
"""

import html
import math
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import markdown
import yaml
from django.utils.text import slugify

from education.html import BLOCK_TAGS, DROPPED_WITH_CONTENT, html_sanitize, html_text
from education.ranking import topics_suggest
from education.vocabulary import CONCEPTS

SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")
WORDS_PER_MINUTE = 200
SUMMARY_CHARACTERS = 220
SLUG_CHARACTERS = 80
MAX_FILE_BYTES = 2 * 1024 * 1024  # a blog post is a few kilobytes; a bigger file is not one (or not only one)
# What the /learn/<slug>/ route accepts (Django's slug converter): a slug outside it cannot be linked to.
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
KNOWN_TOPICS = frozenset(concept.slug for concept in CONCEPTS)


class ImportFailed(ValueError):
    """The file cannot become an article; the message says why, for the import report."""


@dataclass(frozen=True)
class ImportedArticle:
    source: str  # what makes re-importing the same post an update: front matter `source`, canonical URL, "slug:..."
    title: str
    slug: str
    summary: str
    body_html: str
    reading_minutes: int
    topics: tuple[str, ...]
    topics_declared: bool  # the file named them (front matter); otherwise they are suggestions
    published: bool | None  # what the file says; None when it does not
    removed: tuple[str, ...] = ()  # page furniture taken out, in words for the report ("sidebar: Search")
    repaired: int = 0  # mojibake sequences repaired


@dataclass(frozen=True)
class Block:
    tag: str  # p, h1 to h4, ul, ol, blockquote, pre, hr
    html: str  # the whole element, not yet sanitized
    text: str


# --- 1. decoding and mojibake -----------------------------------------------------------------------------------


def decoded(raw: bytes) -> str:
    """UTF-8 (a byte-order mark is dropped); a file that is not UTF-8 is taken as Windows-1252, as old exports are."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _careless_decoding(codepage: str) -> dict[int, str]:
    """Byte -> character as a careless decoder maps the top half: the codepage, else Windows-1252, else Latin-1.

    The seed export shows the fallback: a right single quote (E2 80 99) arrived as "โ€™": 0x99, empty in
    Windows-874, became Windows-1252's trade mark sign.
    """
    table = {}
    for byte in range(0x80, 0x100):
        for candidate in (codepage, "cp1252", "latin-1"):
            try:
                table[byte] = bytes([byte]).decode(candidate)
                break
            except UnicodeDecodeError:
                continue
    return table


@dataclass(frozen=True)
class _Mojibake:
    """UTF-8 sequences read through one codepage: a regex that finds them and the way back to their bytes."""

    codepage: str
    pattern: re.Pattern
    byte_of: dict[str, int]

    @classmethod
    def of(cls, codepage: str) -> "_Mojibake":
        table = _careless_decoding(codepage)
        byte_of = {character: byte for byte, character in sorted(table.items(), reverse=True)}

        def chars(low: int, high: int) -> str:
            return "".join(re.escape(table[byte]) for byte in range(low, high + 1))

        follow = f"[{chars(0x80, 0xBF)}]"
        pattern = f"[{chars(0xC2, 0xDF)}]{follow}|[{chars(0xE0, 0xEF)}]{follow}{{2}}|[{chars(0xF0, 0xF4)}]{follow}{{3}}"
        return cls(codepage, re.compile(pattern), byte_of)

    def repair(self, text: str) -> tuple[str, int]:
        repaired = 0

        def back(match: re.Match) -> str:
            nonlocal repaired
            found = match.group()
            if self.codepage == "cp874" and all("\u0e00" <= character <= "\u0e7f" for character in found):
                return found  # real Thai letters are valid Windows-874 text: only punctuation gives mojibake away
            try:
                original = bytes(self.byte_of[character] for character in found).decode("utf-8")
            except UnicodeDecodeError:
                return found
            repaired += 1
            return original

        return self.pattern.sub(back, text), repaired


_MOJIBAKE = (_Mojibake.of("cp874"), _Mojibake.of("cp1252"))


def mojibake_repair(text: str) -> tuple[str, int]:
    """The text with UTF-8 read as Windows-874 or Windows-1252 turned back, and how many sequences were repaired.

    Each candidate sequence is re-encoded and must decode as strict UTF-8, so correct text ("Café", a curly apostrophe)
    is left as it is, even beside a broken sequence in the same file. Twice, for text broken twice.
    """
    total = 0
    for _ in range(2):
        for mojibake in _MOJIBAKE:
            text, count = mojibake.repair(text)
            total += count
    return text, total


# --- 2. blocks and titles -----------------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_TEXT_HEADING = re.compile(r"^[A-Z0-9][^\n]{0,98}[^.!?,;:\"”)\s]$")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        raise ImportFailed(f"the front matter is not valid YAML ({error.__class__.__name__})") from None
    if not isinstance(meta, dict):
        raise ImportFailed("the front matter must be key: value lines")
    return meta, text[match.end() :]


def _paragraph(text: str) -> Block:
    return Block("p", f"<p>{html.escape(text, quote=False)}</p>", text)


def text_blocks(text: str) -> list[Block]:
    """A plain-text export: blank lines between blocks; a short line without end punctuation is a heading."""
    blocks = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if len(lines) > 1 and all(_BULLET.match(line) for line in lines):
            items = [_BULLET.sub("", line) for line in lines]
            listing = "".join(f"<li>{html.escape(item, quote=False)}</li>" for item in items)
            blocks.append(Block("ul", f"<ul>{listing}</ul>", "\n".join(items)))
        elif len(lines) == 1 and _TEXT_HEADING.match(lines[0]) and len(lines[0].split()) <= 14:
            blocks.append(Block("h2", f"<h2>{html.escape(lines[0], quote=False)}</h2>", lines[0]))
        else:
            blocks.append(_paragraph(" ".join(lines)))
    return blocks


# Class or id words that mark a page's furniture rather than the post ("widget_search", "comment-respond").
_FURNITURE_NAMES = re.compile(
    r"(?:^|[\s_-])(comments?|respond|reply|sidebar|widgets?|share|sharing|sharedaddy|social|cookies?|consent|gdpr|"
    r"related|breadcrumbs?|nav|navbar|navigation|menu|search|tags|tagcloud|categories|author|byline|meta|"
    r"gallery|newsletter|subscribe|advert\w*|ads|promo|footer|masthead)(?:$|[\s_-])",
    re.IGNORECASE,
)
_FURNITURE_TAGS = DROPPED_WITH_CONTENT | {"nav", "aside", "footer", "header", "figure", "head", "input", "label"}
_INLINE_TAGS = {"a", "b", "strong", "em", "i", "span", "code", "small", "u", "abbr", "cite", "q", "mark", "sub", "sup"}
_VOID_TAGS = {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "area", "col", "embed", "param", "track"}
_HEADING_OF = {"h1": "h1", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h4", "h6": "h4"}


class _BlockParser(HTMLParser):
    """Walks an HTML page keeping the post's blocks; furniture elements (by tag, class or id) are skipped whole.

    Containers (div, article, section, span...) are transparent: their blocks are kept, and loose text inside them
    becomes a paragraph. Also notes the <title>, the first <h1> and the canonical address.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.page_title = ""
        self.first_h1 = ""
        self.canonical = ""
        self.skipped: list[str] = []  # the furniture elements left out, as "aside#secondary" or "div.share-buttons"
        self._open: list[str] = []
        self._skip_at: int | None = None  # depth of the furniture element being skipped
        self._block: tuple[str, int] | None = None  # (tag, depth) of the block being captured
        self._html: list[str] = []
        self._text: list[str] = []
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self._note_head(tag, attributes)
        if tag in _VOID_TAGS:
            self._void(tag, attributes)
            return
        self._open.append(tag)
        if tag == "h1" and not self.first_h1:
            self._in_h1 = True
        if self._skip_at is not None:
            return
        names = f"{attributes.get('class', '')} {attributes.get('id', '')}"
        if tag in _FURNITURE_TAGS or _FURNITURE_NAMES.search(names):
            self._skip_at = len(self._open)
            if tag != "head":
                self.skipped.append(_element_name(tag, attributes))
            return
        if self._block is None and tag in BLOCK_TAGS:
            self._flush_loose()
            self._block = (_HEADING_OF.get(tag, tag), len(self._open))
            self._html.append(f"<{_HEADING_OF.get(tag, tag)}>")
        elif self._block is not None or tag in _INLINE_TAGS:
            self._html.append(self._tag_html(tag, attributes))
        else:
            self._flush_loose()

    def _note_head(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag == "link" and "canonical" in attributes.get("rel", "").split():
            self.canonical = attributes.get("href", "")
        elif tag == "meta" and attributes.get("property") == "og:url" and not self.canonical:
            self.canonical = attributes.get("content", "")

    def _void(self, tag: str, attributes: dict[str, str]) -> None:
        if self._skip_at is None and self._block is not None and tag == "br":
            self._html.append("<br>")
            self._text.append(" ")
        elif self._skip_at is None and tag == "hr" and self._block is None:
            self._flush_loose()
            self.blocks.append(Block("hr", "<hr>", ""))

    @staticmethod
    def _tag_html(tag: str, attributes: dict[str, str]) -> str:
        kept = "".join(f' {name}="{html.escape(attributes[name])}"' for name in ("href", "title") if name in attributes)
        return f"<{tag}{kept}>"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "h1":
            self._in_h1 = False
        if tag not in self._open:
            return  # a stray end tag
        while self._open:
            closed = self._open.pop()
            self._close(closed)
            if closed == tag:
                break

    def _close(self, tag: str) -> None:
        depth = len(self._open) + 1
        if self._skip_at is not None:
            if depth == self._skip_at:
                self._skip_at = None
            return
        if self._block is not None and depth == self._block[1]:
            block_tag = self._block[0]
            self._html.append(f"</{block_tag}>")
            self._emit(block_tag)
        elif self._block is not None or tag in _INLINE_TAGS:
            self._html.append(f"</{tag}>")
        else:
            self._flush_loose()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data
        if self._in_h1:
            self.first_h1 += data
        if self._skip_at is not None or (not self._open and not data.strip()):
            return
        self._html.append(html.escape(data, quote=False))
        self._text.append(data)

    def _flush_loose(self) -> None:
        """Text outside any block (straight inside a div) becomes a paragraph of its own."""
        if self._block is None and "".join(self._text).strip():
            self._html.insert(0, "<p>")
            self._html.append("</p>")
            self._emit("p")
        elif self._block is None:
            self._html, self._text = [], []

    def _emit(self, tag: str) -> None:
        text = " ".join("".join(self._text).split())
        if text or tag == "hr":
            self.blocks.append(Block(tag, "".join(self._html), text))
        self._block, self._html, self._text = None, [], []

    def close(self) -> None:
        super().close()
        self._flush_loose()


def _element_name(tag: str, attributes: dict[str, str]) -> str:
    if attributes.get("id"):
        return f"{tag}#{attributes['id']}"
    classes = attributes.get("class", "").split()
    return f"{tag}.{classes[0]}" if classes else tag


def html_blocks(text: str) -> _BlockParser:
    parser = _BlockParser()
    parser.feed(text)
    parser.close()
    return parser


def _page_title(title: str) -> str:
    """ "Sleep and stress | Willow Acupuncture Blog" -> "Sleep and stress": the site's name goes (after | or a dash)."""
    return re.split(r"\s+[|\u2013\u2014-]\s+", " ".join(title.split()))[0] if title.strip() else ""


# --- 3. furniture -------------------------------------------------------------------------------------------------

_COMMENTS_START = re.compile(
    r"^(leave a (reply|comment)|post a comment|add a comment|join the discussion|\d+ (comments?|responses?|replies)|"
    r"comments?( \(\d+\))?|responses?|what do you think)\W*$",
    re.IGNORECASE,
)
_SIDEBAR_TITLES = frozenset(
    """search|search for|about|about me|about us|tags|tag cloud|categories|archives|gallery|recent posts|
    recent comments|popular posts|latest posts|meta|follow us|follow me|subscribe|newsletter|share|share this|
    like this|related|related posts|you may also like|instagram|menu|skip to content|contact|contact us|
    useful links|blogroll|calendar""".replace("\n", "").split("|")
)
_SHARE_WORDS = frozenset(
    re.findall(r"\w+", "share shares on to via this it facebook twitter x linkedin pinterest whatsapp email print")
    + re.findall(r"\w+", "tweet pin reddit tumblr telegram pocket copy link like")
)
# (kind, the longest block it may be, pattern). Phrases that only furniture uses ("your email address will not be
# published") may sit in a longer block; shapes that a sentence can also start with ("Next, the practitioner...",
# "Published studies on...", "Read more about needles in...") only count as a whole short line of that exact shape.
_RULES = (
    ("placeholder text (lorem ipsum)", 600, re.compile(r"lorem ipsum|dolor sit amet|consectetur adipiscing", re.I)),
    (
        "comment form",
        600,
        re.compile(
            r"your email address will not be published|required fields are marked|save my name, email|"
            r"notify me of (new|follow-up) (comments|posts)|^post comment$|you must be logged in to post",
            re.I,
        ),
    ),
    (
        "posted by/in line",
        160,
        # "Posted by Ana", "Published on 3 May 2019 by Ana in Wellness", "Filed under: Sleep": the verb, maybe a
        # date, then at once by/in/on/under ("Published studies on..." and "Written notes by..." are sentences).
        re.compile(r"^(posted|published|written|filed|tagged)(\s+on\s+[^.!?]{1,40}?)?\s+(by|in|on|under)\b", re.I),
    ),
    (
        "cookie notice",
        300,
        re.compile(r"\bcookies?\b.*\b(accept|consent|agree|we use|uses)\b|\bwe use cookies\b", re.I),
    ),
    (
        "post navigation",
        120,
        # "Read more", "Continue reading →", "« Previous post", "Next article: Sleep and stress", "Next »".
        re.compile(
            r"^(read more|continue reading)\W*$|"
            r"^(continue reading)\s+\S.*(\u2192|\u00bb|\u203a|>)$|"
            r"^(\u00ab|\u2039|\u2190|<)?\s*(previous|next|older|newer)(\s+(post|article|entry|story))?\W*$|"
            r"^(\u00ab|\u2039|\u2190|<)?\s*(previous|next|older|newer)\s+(post|article|entry|story)\b[^.!?]*$|"
            r"^[^.!?]{1,100}\s(\u2192|\u00bb|\u203a)$",
            re.I,
        ),
    ),
)


def furniture_kind(block: Block) -> str | None:
    """What kind of page furniture a block is ("sidebar: Search"), or None for the post's own text."""
    text = block.text.strip()
    if not re.search(r"[^\W_]", text):
        return "stray punctuation" if block.tag != "hr" else None
    bare = re.sub(r"[:\s]+$", "", text).casefold()
    if bare in _SIDEBAR_TITLES:
        return f"sidebar: {text.rstrip(':')}"
    if (set(re.findall(r"[a-z]+", bare)) <= _SHARE_WORDS and "share" in bare) or bare in {"tweet", "pin it"}:
        return "share buttons"
    for kind, longest, pattern in _RULES:
        if len(text) <= longest and pattern.search(text):
            return kind
    return None


def furniture_strip(blocks: list[Block]) -> tuple[list[Block], list[str]]:
    """The post's blocks, and what was removed. A comment heading ends the post: what follows it is comments,
    the comment form and the sidebars."""
    kept: list[Block] = []
    removed: list[str] = []
    for position, block in enumerate(blocks):
        if kept and _COMMENTS_START.match(block.text.strip()):
            removed.append(f"comment form: {block.text.strip()}")
            removed.extend(furniture_kind(after) or "after the comments" for after in blocks[position + 1 :])
            break
        kind = furniture_kind(block)
        if kind:
            removed.append(kind)
        else:
            kept.append(block)
    while kept and kept[-1].tag in {"hr", "h2", "h3", "h4"}:
        removed.append("heading with nothing under it" if kept[-1].tag != "hr" else "stray rule")
        kept.pop()
    return kept, removed


# --- 4. the article -----------------------------------------------------------------------------------------------


def summary_of(blocks: list[Block]) -> str:
    """Whole sentences of the first paragraph, up to SUMMARY_CHARACTERS; a long first sentence is cut at a word."""
    first = next((block.text for block in blocks if block.tag == "p"), "")
    summary = ""
    for sentence in re.split(r"(?<=[.!?])\s+", first):
        if summary and len(summary) + len(sentence) + 1 > SUMMARY_CHARACTERS:
            break
        summary = f"{summary} {sentence}".strip()
    if len(summary) > SUMMARY_CHARACTERS:
        summary = summary[:SUMMARY_CHARACTERS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return summary


def slug_declared(meta: dict) -> str | None:
    """The front matter's `slug`, which must be usable in a link as it is: it is never silently changed, since a
    clinic that names a slug wants its old links to keep working."""
    if meta.get("slug") is None:
        return None
    slug = str(meta["slug"]).strip()
    if not _SLUG.match(slug) or len(slug) > SLUG_CHARACTERS:
        suggestion = slug_of(slug)
        raise ImportFailed(
            f"the slug {slug[:100]!r} cannot be used in a link: letters, digits and hyphens only, at most "
            f"{SLUG_CHARACTERS} characters (for example {suggestion!r})"
        )
    return slug


def slug_of(title: str) -> str:
    slug = slugify(title)
    if len(slug) > SLUG_CHARACTERS:
        slug = slug[:SLUG_CHARACTERS].rsplit("-", 1)[0]
    return slug or "article"


def reading_minutes(text: str) -> int:
    return max(1, math.ceil(len(text.split()) / WORDS_PER_MINUTE))


def removed_summary(removed: list[str]) -> tuple[str, ...]:
    """ "placeholder text (lorem ipsum) x2": each kind once, in the order first seen."""
    counts = Counter(removed)
    return tuple(kind if counts[kind] == 1 else f"{kind} x{counts[kind]}" for kind in dict.fromkeys(removed))


def _declared_topics(meta: dict) -> tuple[str, ...] | None:
    declared = meta.get("topics")
    if declared is None:
        return None
    topics = tuple(declared) if isinstance(declared, list) else tuple(str(declared).replace(",", " ").split())
    unknown = sorted(set(topics) - KNOWN_TOPICS)
    if unknown:
        raise ImportFailed(f"unknown topic {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_TOPICS))})")
    return topics


@dataclass(frozen=True)
class _Parsed:
    blocks: list[Block]
    title: str
    canonical: str
    skipped: list[str]


def _parsed(text: str, kind: str, meta: dict) -> _Parsed:
    """The blocks, title, canonical address and skipped furniture elements, for one format."""
    skipped: list[str] = []
    if kind in (".html", ".htm"):
        parsed = html_blocks(text)
        blocks, canonical, skipped = parsed.blocks, parsed.canonical, parsed.skipped
        fallback = _page_title(parsed.page_title) or " ".join(parsed.first_h1.split())
    elif kind in (".md", ".markdown"):
        parsed = html_blocks(markdown.markdown(text))
        blocks, canonical, fallback, skipped = parsed.blocks, "", "", parsed.skipped
    else:
        blocks, canonical, fallback = text_blocks(text), "", ""
    title = str(meta.get("title") or "").strip()
    if not title and blocks and blocks[0].tag == "h1":
        title = blocks.pop(0).text
    elif not title and fallback:
        title = fallback
    elif not title and kind == ".txt" and blocks and len(blocks[0].text) <= 150:
        title = blocks.pop(0).text  # a plain-text export starts with the post's title
    if blocks and blocks[0].text.strip().casefold() == title.casefold():
        blocks.pop(0)
    return _Parsed([_demoted(block) for block in blocks], title, canonical, skipped)


def _demoted(block: Block) -> Block:
    """The page's own <h1> is the title: an <h1> inside the post becomes an <h2>."""
    if block.tag != "h1":
        return block
    return Block("h2", re.sub(r"^<h1>|</h1>$", lambda m: m.group().replace("1", "2"), block.html), block.text)


def article_parse(text: str, *, kind: str) -> ImportedArticle:
    """One export's text, of `kind` (".md", ".html" or ".txt"), as an article (its source: see the module's notes)."""
    text, repaired = mojibake_repair(text)
    meta, text = front_matter(text) if kind in (".md", ".markdown") else ({}, text)
    parsed = _parsed(text, kind, meta)
    title = parsed.title
    if not title:
        raise ImportFailed("no title found (add a first line, a # heading or title: in the front matter)")
    blocks, removed = furniture_strip(parsed.blocks)
    removed = [f"page element: {name}" for name in parsed.skipped] + removed
    if not any(block.tag == "p" for block in blocks):
        raise ImportFailed("no paragraph of text left after removing the page furniture")
    body_html = html_sanitize("\n".join(block.html for block in blocks))
    body_text = html_text(body_html)
    summary = str(meta.get("summary") or "").strip() or summary_of(blocks)
    declared = _declared_topics(meta)
    slug = slug_declared(meta) or slug_of(title)
    return ImportedArticle(
        source=str(meta.get("source") or parsed.canonical or f"slug:{slug}").strip()[:300],
        title=title[:200],
        slug=slug,
        summary=summary,
        body_html=body_html,
        reading_minutes=reading_minutes(body_text),
        topics=declared if declared is not None else topics_suggest(title, summary, body_text),
        topics_declared=declared is not None,
        published=meta["published"] if isinstance(meta.get("published"), bool) else None,
        removed=removed_summary(removed),
        repaired=repaired,
    )


def article_file_parse(path: Path) -> ImportedArticle:
    """Read one export file (at most MAX_FILE_BYTES)."""
    kind = path.suffix.lower()
    if kind not in SUFFIXES:
        raise ImportFailed(f"not an article export (expected {', '.join(SUFFIXES)})")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: not a single blog post")
    return article_parse(decoded(path.read_bytes()), kind=kind)


def article_files(paths: list[Path]) -> list[Path]:
    """The files named, and the exports inside each folder named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(child for child in path.iterdir() if child.suffix.lower() in SUFFIXES))
        else:
            found.append(path)
    return found
