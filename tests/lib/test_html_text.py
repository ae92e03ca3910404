"""The one HTML -> text writer: what every crawler's text looks like, whatever the HTML came from."""

from lib.html_text import fence, html_to_text


def test_structure_becomes_markdown_like_text():
    html = (
        "<h2>Why</h2><p>Boring is <em>known</em>; use <code>SKIP LOCKED</code>.</p>"
        "<ul><li>one<ul><li>nested</li></ul></li><li>two</li></ul>"
        "<blockquote><p>Quoted.</p><p>Twice.</p></blockquote>"
        '<pre><code class="language-sql">SELECT 1;\n\n  -- kept\n</code></pre>'
        "<table><tr><th>a</th><th></th><th>b</th></tr><tr><td><p>x</p><p>y</p></td></tr></table>"
    )

    assert html_to_text(html) == (
        "## Why\n\nBoring is known; use `SKIP LOCKED`.\n\n- one\n  - nested\n- two\n\n> Quoted.\n>\n> Twice."
        "\n\n```sql\nSELECT 1;\n\n  -- kept\n```\n\na | b\n\nx y"
    )


def test_platform_widgets_images_and_empty_code_blocks_leave_nothing():
    html = (
        "<p>Words.</p><pre></pre><pre>\n</pre><img src='a.png' alt='a diagram'>"
        '<div class="subscription-widget-wrap-editor" data-component-name="SubscribeWidgetToDOM">'
        '<p class="cta-caption">X is a reader-supported publication.</p><form><input value="Subscribe"></form></div>'
        '<p class="button-wrapper" data-component-name="ButtonCreateButton"><a href="/subscribe">Subscribe now</a></p>'
        '<div data-component-name="CaptionedButtonToDOM"><p>Thanks for reading!</p></div><p>More words.</p>'
    )

    assert html_to_text(html) == "Words.\n\nMore words."


def test_a_fence_is_longer_than_any_backtick_run_in_the_code():
    assert fence("```sh\nls\n```\n", "md") == "````md\n```sh\nls\n```\n````"


def test_a_documentation_heading_loses_its_permalink_mark():
    html = '<h2>How do I make a script executable?<a class="headerlink" href="#id1">¶</a></h2><p>Use chmod.</p>'
    assert html_to_text(html) == "## How do I make a script executable?\n\nUse chmod."
    assert html_to_text('<h3>Tips <a class="anchor" href="#tips">#</a></h3>') == "### Tips"
    assert html_to_text("<h3>C#</h3>") == "### C#"  # a name that ends in # keeps it
