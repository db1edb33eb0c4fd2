"""Shared by the browser tests: whether a page shown in Welsh still shows English interface text."""

import re

from babel.messages.pofile import read_po

from .conftest import ROOT

CATALOGUE = ROOT / "participate" / "translations" / "cy" / "LC_MESSAGES" / "messages.po"


def english_patterns() -> list[re.Pattern]:
    """Every English interface message whose Welsh differs, as a pattern matching it with any values filled in."""
    with open(CATALOGUE, "rb") as f:
        catalogue = read_po(f, locale="cy")
    patterns = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            if english in strings:
                continue  # the same in both languages (PDF, JSON, Meta...)
            parts = re.split(r"(%\([a-z_]+\)[.0-9]*[sdf]|%%)", english)
            fixed = "".join(p for p in parts if not p.startswith("%"))
            if "%(" in english and len(re.findall(r"[A-Za-z]+", fixed)) < 2:
                continue  # a joiner like "%(first)s and %(last)s" matches any sentence with "and" in it
            regex = "".join(".+?" if re.fullmatch(r"%\(.*", p) else "%" if p == "%%" else re.escape(p) for p in parts)
            patterns.append(re.compile(regex))
    return patterns


PATTERNS = english_patterns()
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || parent.closest('script, style, [lang]:not([lang="cy"])')) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(value.trim());
    }
  }
  out.push(document.title);
  return out;
}"""


def english_left(page) -> list[str]:
    """Text on the page that is exactly an English interface message (title · site name split at the dot)."""
    found = []
    for text in page.evaluate(VISIBLE_TEXT):
        for piece in (p.strip() for p in text.split(" · ")):
            if any(pattern.fullmatch(piece) for pattern in PATTERNS):
                found.append(piece)
    return found


def check_welsh(session, page):
    session.check(page, language="cy")
    assert not english_left(page), f"English interface text on {page.url}: {english_left(page)}"
