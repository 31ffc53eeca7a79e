"""The course's website (make book) in a real browser: every page, its figures, maths, links.

`make browser-book` runs it on build/book/ (CI builds the site in quick mode first). The site
is served on 127.0.0.1 and each page opened in headless Chromium. It fails when a request
leaves the machine or fails, a picture does not load, a page's maths is not typeset by the
site's own MathJax (or LaTeX shows raw), a cell tagged `claims`, a quiz's code or an
exercise's solution shows (solutions are folded), a notebook's page has no figure or no
quiz, a link leads to a missing page or anchor, a page reports a script error, the
navigation button does not open the menu on a phone's width, or a search for "Gram matrix"
does not find notebook 03. Screenshots go to build/browser/book_*.png.

    .venv/bin/python .ci/browser_book.py [--site build/book]
"""

import argparse
import contextlib
import functools
import http.server
import re
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from browser_test import CHROMIUM_ARGS, OUTPUT, REPO, VIEWPORT, say

SEARCH = ("Gram matrix", "notebooks/03_gram_matrix_and_style_cost.html")

# Every picture loaded (lazy ones made eager first), MathJax done, and what the page shows.
PAGE_STATE = r"""async () => {
  const images = [...document.images];
  images.forEach((img) => { img.loading = 'eager'; });
  await Promise.all(images.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener('load', done); img.addEventListener('error', done); })));
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
  const main = document.querySelector('main') || document.body;
  // Text that MathJax left as LaTeX: a $, or a \command{ or \( outside code and formulas.
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const rawLatex = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('pre, code, mjx-container, script, style')) continue;
    if (/\$|\\[a-zA-Z]+\{|\\[(\[]/.test(node.textContent))
      rawLatex.push(node.textContent.trim().slice(0, 80));
  }
  return {
    rawLatex,
    broken: images.filter((img) => !img.naturalWidth).map((img) => img.src),
    figures: main.querySelectorAll('.cell_output img').length,
    quizzes: main.querySelectorAll('.nst-quiz-static').length,
    maths: main.querySelectorAll('.math').length,
    typeset: main.querySelectorAll('mjx-container').length,
    mathErrors: main.querySelectorAll('mjx-merror').length,
    text: main.innerText,
    everything: main.textContent,  // folded parts too
    links: [...document.querySelectorAll('a[href]')].map((a) => a.href),
  };
}"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass  # a line per request would bury the report


def serve(site):
    """The site on 127.0.0.1, from a thread: (server, its address)."""
    handler = functools.partial(QuietHandler, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def pages_of(site):
    return sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html")
                  if not path.relative_to(site).parts[0].startswith("_"))


def check_page(name, state, problems):
    """Appends what is wrong with one page to problems."""
    def fail(what):
        problems.append(f"{name}: {what}")

    for source in state["broken"]:
        fail(f"picture does not load: {source}")
    if state["maths"] and state["typeset"] < state["maths"]:
        fail(f"{state['maths'] - state['typeset']} of {state['maths']} formulas not typeset")
    if state["mathErrors"]:
        fail(f"{state['mathErrors']} formulas MathJax could not read")
    for text in state["rawLatex"]:
        fail(f"raw LaTeX shows: {text!r}")
    if "nst.claim(" in state["everything"]:
        fail("a cell tagged claims is on the page")
    if "nst.quiz(" in state["everything"]:
        fail("a quiz's code (its answers) is on the page")
    if "BEGIN SOLUTION" in state["text"]:
        fail("an exercise's solution shows unfolded")
    if name.startswith("notebooks/0"):
        if not state["figures"]:
            fail("no figure")
        if state["quizzes"] != 1:
            fail(f"{state['quizzes']} 'Check your understanding' quizzes instead of 1")


@functools.cache
def ids_in(page):
    """The anchors of one page, read once however many links point into it."""
    return set(re.findall(r'id="([^"]+)"', page.read_text()))


def check_links(site, base, hrefs, problems):
    """Every link inside the site leads to a page that exists, and to its anchor."""
    for href in sorted(set(hrefs)):
        if not href.startswith(base):
            continue  # outside links (the papers) are not followed: there is no network
        parts = urlsplit(href)
        target = site / unquote(parts.path[len(urlsplit(base).path):] or "index.html")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"broken link: {href}")
        elif (parts.fragment and target.suffix == ".html"
              and unquote(parts.fragment) not in ids_in(target)):
            problems.append(f"link to a missing anchor: {href}")


def check_phone_menu(page, base, problems):
    """On a phone's width the navigation is folded away; its button must bring it out."""
    page.set_viewport_size({"width": 400, "height": 800})
    page.goto(urljoin(base, "notebooks/01_vgg19_transfer_learning.html"))
    sidebar = "document.querySelector('.bd-sidebar-primary').getBoundingClientRect().x >= 0"
    folded = not page.evaluate(sidebar)
    page.locator("button.primary-toggle:visible").first.click()
    page.wait_for_timeout(1000)
    if not (folded and page.evaluate(sidebar)):
        problems.append("on a phone's width the navigation button does not open the menu")
    page.screenshot(path=OUTPUT / "book_phone_menu.png")
    page.set_viewport_size(VIEWPORT)


def check_search(page, base, problems):
    words, expected = SEARCH
    page.goto(urljoin(base, f"search.html?q={words.replace(' ', '+')}"))
    results = page.locator("#search-results li a")
    with contextlib.suppress(Exception):
        results.first.wait_for(timeout=20000)
    found = [link.get_attribute("href") or "" for link in results.all()]
    if not any(expected in href for href in found):
        problems.append(f"a search for {words!r} does not find {expected} (found {found[:5]})")
    return len(found)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "build" / "book")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    if not (args.site / "index.html").is_file():
        say(f"FAIL no site in {args.site}: build it with `make book`")
        return 1
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    server, base = serve(args.site)
    problems, outside, hrefs = [], set(), []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium,
                                                 args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.on("request", lambda request: None if request.url.startswith(
                (base, "data:", "blob:")) else outside.add(request.url))
            page.on("response", lambda response: problems.append(
                f"{response.status} for {response.url}") if response.status >= 400
                and not response.url.endswith("/favicon.ico") else None)
            page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
            for name in pages_of(args.site):
                page.goto(urljoin(base, name))
                state = page.evaluate(PAGE_STATE)
                check_page(name, state, problems)
                hrefs += state["links"]
                page.screenshot(path=OUTPUT / f"book_{name.replace('/', '_')}.png")
                say(f"{name:50} {state['figures']:3} figures, {state['typeset']:4} formulas")
            check_links(args.site, base, hrefs, problems)
            check_phone_menu(page, base, problems)
            found = check_search(page, base, problems)
            say(f"search for {SEARCH[0]!r}: {found} pages found")
            browser.close()
    finally:
        server.shutdown()
    problems += [f"a request left the machine: {url}" for url in sorted(outside)]
    for problem in problems:
        say(f"FAIL {problem}")
    say(f"browser-book: {len(pages_of(args.site))} pages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
