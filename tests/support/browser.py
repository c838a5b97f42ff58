"""The report page as a reader's browser shows it: Debian's chromium, headless, via playwright.

No `playwright install`: the browser is the system's /usr/bin/chromium (scripts/bootstrap.sh
installs it with fonts-liberation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"

# Per chart: its view, how many marks plotly drew (line paths, points, bars, histogram
# bins), how many axis ticks, and per y axis the currencies of the traces drawn on it.
_CHARTS_JS = """
() => Array.from(document.querySelectorAll('section.kpi')).map(section => {
  const plot = section.querySelector('.js-plotly-plot');
  if (!plot) return {view: section.dataset.view, marks: 0, xticks: 0, yticks: 0, axes: {}};
  const marks = plot.querySelectorAll(
    '.scatterlayer path.js-line, .scatterlayer .points path, .barlayer .point path').length;
  const axes = {};
  for (const t of plot.data) {
    const key = t.orientation === 'h' ? (t.xaxis || 'x') : (t.yaxis || 'y');
    (axes[key] = axes[key] || []).push((t.meta && t.meta.currency) || null);
  }
  return {
    view: section.dataset.view,
    marks,
    xticks: plot.querySelectorAll('.xtick').length,
    yticks: plot.querySelectorAll('.ytick').length,
    xtitles: Array.from(plot.querySelectorAll('.g-xtitle, [class^="g-x"][class$="title"]'))
      .map(e => e.textContent).filter(Boolean),
    ytitles: Array.from(plot.querySelectorAll('.g-ytitle, [class^="g-y"][class$="title"]'))
      .map(e => e.textContent).filter(Boolean),
    axes,
  };
})
"""

_EXTERNAL_JS = """
() => Array.from(document.querySelectorAll('[src], [href]'))
  .map(e => e.getAttribute('src') || e.getAttribute('href'))
  .filter(u => /^(https?:)?\\/\\//i.test(u))
"""


@dataclass
class PageCheck:
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    external_refs: list[str] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    headlines: dict[str, str] = field(default_factory=dict)


def check_page(page_path: Path, screenshot: Path) -> PageCheck:
    from playwright.sync_api import sync_playwright

    found = PageCheck()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: m.type == "error" and found.console_errors.append(m.text))
            page.on("pageerror", lambda e: found.console_errors.append(str(e)))
            page.on(
                "request",
                lambda r: (
                    not r.url.startswith(("file:", "data:", "blob:"))
                    and found.outside_requests.append(r.url)
                ),
            )
            page.goto(Path(page_path).resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length"
                " >= document.querySelectorAll('.js-plotly-plot').length"
            )
            found.external_refs = page.evaluate(_EXTERNAL_JS)
            found.charts = page.evaluate(_CHARTS_JS)
            found.headlines = page.evaluate(
                "() => Object.fromEntries(Array.from(document.querySelectorAll('[data-headline]'))"
                ".map(e => [e.dataset.headline, e.dataset.value]))"
            )
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return found
