"""Notes are Markdown, shown as cleaned HTML: formatting stays, anything active goes."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from designations.markdown import render_markdown


def test_formatting_is_kept() -> None:
    html = render_markdown(
        "**Seen** in _Rotterdam_:\n\n- one\n- two\n\n[report](https://example.org/r)"
    )
    assert "<strong>Seen</strong>" in html and "<em>Rotterdam</em>" in html
    assert "<li>one</li>" in html
    assert '<a href="https://example.org/r" rel="noopener noreferrer nofollow">report</a>' in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<img src="https://tracker.example/p.gif">',
        "![pixel](https://tracker.example/p.gif)",
        "[click](javascript:alert(1))",
        '<a href="#" onclick="alert(1)">x</a>',
        "<iframe src=https://example.org></iframe>",
        '<p style="position:fixed">x</p>',
        "[data](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_nothing_active_survives(text: str) -> None:
    elements = Elements()
    elements.feed(render_markdown(text))
    for tag, attributes in elements.found:
        assert tag not in {"script", "img", "iframe", "style", "form"}, (text, tag)
        for name, value in attributes:
            assert not name.startswith("on") and name != "style", (text, name)
            if name == "href":
                assert value.split(":")[0] in {"http", "https", "mailto"}, (text, value)


class Elements(HTMLParser):
    """Every element of an HTML fragment, with its attributes (text is not markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str]]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        self.found.append((tag, [(name, value or "") for name, value in attrs]))


@pytest.mark.django_db
def test_the_note_page_shows_the_rendered_note(client, alice) -> None:
    from designations.services import note_create

    note = note_create(
        actor=alice, designation=None, title="Markdown", body="**bold** <b onmouseover=x>raw</b>"
    )
    client.force_login(alice)
    page = client.get(note.get_absolute_url())
    assert "<strong>bold</strong>" in page.text
    assert "<b onmouseover" not in page.text and "&lt;b onmouseover" in page.text  # as text
