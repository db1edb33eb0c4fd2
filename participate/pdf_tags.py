"""The PDF's structure tree names the language of every element whose HTML says it (``lang="de"``).

WeasyPrint tags the PDF (PDF/UA-1) from the HTML but writes the language only on the document, so a screen reader
would read a German statement in a Welsh report with Welsh rules. :func:`install` wraps the function that builds
each structure element, once per process, to copy the element's ``lang`` into its ``/Lang`` entry (ISO 32000-1
§14.9.2); children inherit it, as in HTML.
"""

import threading

import pydyf
from weasyprint.pdf import tags

_lock = threading.Lock()


def install() -> None:
    """Make WeasyPrint write ``/Lang`` on the structure elements of HTML elements with a ``lang`` (idempotent)."""
    with _lock:
        if getattr(tags._build_box_tree, "participate_lang", False):
            return
        original = tags._build_box_tree

        def build_box_tree(box, *args, **kwargs):
            element = getattr(getattr(box, "_box", box), "element", None)
            lang = element.get("lang") if element is not None and hasattr(element, "get") else None
            for item in original(box, *args, **kwargs):
                if lang and "Lang" not in item:
                    item["Lang"] = pydyf.String(lang)
                yield item

        build_box_tree.participate_lang = True
        tags._build_box_tree = build_box_tree
