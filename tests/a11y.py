"""Accessibility checks with axe-core (vendored in ``tests/vendor/axe-core``) inside Playwright.

:func:`axe_violations` injects axe into the page (or a frame) and runs the WCAG 2.0 / 2.1 / 2.2
A and AA rules; :func:`assert_accessible` fails on any *serious* or *critical* violation, naming
the rule, its help text and the first offending elements, so a failure says what to fix.
"""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")


def axe_violations(page_or_frame, *, exclude: list[str] | None = None) -> list[dict]:
    """axe-core's violations of WCAG 2.2 A/AA on the page as it is now (every impact)."""
    # evaluated through the DevTools protocol, which the page's Content-Security-Policy (no
    # inline script) does not govern: the page is checked under its real policy
    if not page_or_frame.evaluate("() => typeof window.axe !== 'undefined'"):
        page_or_frame.evaluate(AXE.read_text(encoding="utf-8"))
    context = {"exclude": [[s] for s in exclude]} if exclude else None
    return page_or_frame.evaluate(
        """async ([context, tags]) => {
            const r = await axe.run(context || document,
                                    {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""", [context, WCAG_TAGS])


def assert_accessible(page_or_frame, what: str, *, exclude: list[str] | None = None) -> list[dict]:
    """Fail on serious or critical WCAG 2.2 AA violations; return the minor ones (for a look)."""
    found = axe_violations(page_or_frame, exclude=exclude)
    blocking = [v for v in found if v["impact"] in BLOCKING]
    assert not blocking, f"{what}: axe-core found " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in blocking)
    return [v for v in found if v["impact"] not in BLOCKING]
