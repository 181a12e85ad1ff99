"""The contracts reference page for integrators: one offline HTML file generated from the contract code.

`python -m lhl.contracts_page [OUT_DIR]` writes OUT_DIR/index.html (default docs/contracts). The output depends
only on the code, never on the clock, so a test can check that the committed page is up to date.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Final

from contracts import catalog, topics
from contracts.events.base import EventData
from lhl import contract_examples, contract_sections
from lhl.contract_sections import SERVICES

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_OUT_DIR: Final = ROOT / "docs" / "contracts"
PAGE_NAME: Final = "index.html"
EXAMPLES: Final[Mapping[str, EventData]] = contract_examples.EXAMPLES

_STYLE: Final = """
:root { color-scheme: light dark; --muted: #667; --line: #ccd; --accent: #0b5cad; --code: #f3f4f8; }
@media (prefers-color-scheme: dark) { :root { --muted: #aab; --line: #445; --accent: #7ab4ff; --code: #22242c; } }
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 78rem; padding: 0 1.5rem 4rem; }
header { position: sticky; top: 0; background: Canvas; border-bottom: 1px solid var(--line); padding: .5rem 0; }
h1 { margin: .5rem 0; font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid var(--line); }
article { border: 1px solid var(--line); border-radius: 6px; padding: 0 1rem 1rem; margin: 1.5rem 0; }
a { color: var(--accent); } code { background: var(--code); padding: 0 .2em; border-radius: 3px; }
pre { background: var(--code); padding: .75rem; overflow-x: auto; } pre code { padding: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .92rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
td:first-child, td a code { white-space: nowrap; } td { overflow-wrap: break-word; }
.fields .depth-1 td:first-child { padding-left: 1.5rem; } .fields .depth-2 td:first-child { padding-left: 3rem; }
.fields .depth-3 td:first-child { padding-left: 4.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dt { color: var(--muted); }
nav a { margin-right: 1rem; } #filter { width: 22rem; max-width: 100%; padding: .3rem; }
#filter-count { color: var(--muted); margin-left: .75rem; } [hidden] { display: none !important; }
"""

# Filters event types, topics and reasons by the text they contain; `?q=` pre-fills it so a link can share a view.
_SCRIPT: Final = """
(function () {
  var box = document.getElementById("filter"), count = document.getElementById("filter-count");
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-filter]"));
  var types = document.querySelectorAll("[data-event-type]").length;
  function apply() {
    var q = box.value.trim().toLowerCase(), shown = 0;
    items.forEach(function (el) {
      var hit = q === "" || el.textContent.toLowerCase().indexOf(q) !== -1;
      el.hidden = !hit;
      if (hit && el.hasAttribute("data-event-type")) { shown += 1; }
    });
    count.textContent = shown + " of " + types + " event types shown";
  }
  box.value = new URLSearchParams(window.location.search).get("q") || "";
  box.addEventListener("input", apply);
  apply();
})();
"""


def _publishing_section() -> str:
    asyncapi = "".join(f'<li><a href="../asyncapi/{escape(s)}.json">{escape(s)}.json</a></li>' for s in SERVICES)
    return f"""<section id="publishing"><h2>Publishing an event</h2>
<ol>
<li>Pick the event type below; it names the topic to publish to. External systems publish only the types whose
producer is <em>external</em>, on the ingress topics.</li>
<li>Wrap the data in a CloudEvent (structured mode), with the {_code("dataschema")} of the type and the
{_code("source")} registered for your organisation.</li>
<li>Send it with the {_code("content-type")} header and the {_code("partitionkey")} as the record key.</li>
<li>Rejected events land on {_code(topics.DEAD_LETTER)} with a reason, and your registered contact is told. A
corrected event needs a new {_code("id")}: the rejected one is remembered, and a copy with it is ignored as a
duplicate.</li>
</ol>
<p>Machine-readable: the AsyncAPI 3.0 document of each service, beside this page, with one message per event
type (its envelope and data schema, headers, Kafka key and an example) and the dead letter with its headers:</p>
<ul>{asyncapi}</ul>
<p>JSON Schemas of every event type's data are in {_code("contracts/schemas/")}.</p>
<p>Over HTTPS instead of Kafka: the gateway takes the same events with {_code("POST /events")} (one, or a batch),
answers 202 once an event is on the broker or a problem document naming each wrong field, gives a receipt of
each event (what it caused, and whether it was told) and a feed of the audit trail. Its OpenAPI 3.1 document:
<a href="../openapi/gateway.json">gateway.json</a>.</p>
</section>"""


def _code(text: str) -> str:
    return f"<code>{escape(text)}</code>"


def render_page() -> str:
    missing = contract_examples.missing_examples()
    if missing:
        raise ValueError(f"no example for event type(s) {', '.join(missing)}: add one in lhl/contract_examples/")
    nav = "".join(
        f'<a href="#{anchor}">{label}</a>'
        for anchor, label in (
            ("publishing", "Publishing"),
            ("topics", "Topics"),
            ("envelope", "Envelope"),
            ("event-types", "Event types"),
            ("webhook-bodies", "Webhook bodies"),
            ("rejections", "Rejections"),
        )
    )
    body = "\n".join(
        (
            _publishing_section(),
            contract_sections.topics_section(),
            contract_sections.envelope_section(),
            contract_sections.event_types_section(),
            contract_sections.webhook_bodies_section(),
            contract_sections.rejections_section(),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leve hele livet: event contracts</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>Leve hele livet: event contracts</h1>
<p>{len(catalog.EVENT_TYPES)} event types on {len(topics.ALL_TOPICS)} topics, and {len(catalog.WEBHOOK_TYPES)} sent only
by webhook. Generated from {_code("contracts/")}
by {_code("python -m lhl.contracts_page")}; do not edit by hand.</p>
<nav>{nav}</nav>
<p><label for="filter">Filter </label><input id="filter" type="search" placeholder="event type, topic, field, reason"
autocomplete="off"><span id="filter-count" aria-live="polite"></span></p>
</header>
<main>
{body}
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def write_page(out_dir: Path) -> Path:
    """Write the page as OUT_DIR/index.html and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / PAGE_NAME
    page.write_text(render_page(), encoding="utf-8")
    return page


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print("usage: python -m lhl.contracts_page [OUT_DIR]", file=sys.stderr)
        return 2
    page = write_page(Path(argv[0]) if argv else DEFAULT_OUT_DIR)
    print(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
