"""The studio app in a real browser: `make studio` served, opened in headless Chromium, Preview.

`make browser-app` runs it. It starts the app with the very command a user types, `make studio`
(on a free port, with the offline weights), opens the page, and fails unless the studio's
widgets are drawn with their icons and no error or traceback, a Preview at the studio's
defaults ends with a new picture, and no request from the page goes anywhere but 127.0.0.1
(any other is blocked, and fails the test). It stops the app as a user
would, with a Ctrl-C, and then ends whatever is left. A screenshot goes to
build/browser/studio_app.png, Voila's log to build/browser/studio_app.log. Nothing in the
repository is written (Preview saves nothing).

    .venv/bin/python .ci/browser_app.py [--chromium PATH] [--headed]
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

# Shared with the notebooks' browser test (this folder is on sys.path: scripts run from it).
from browser_test import (
    CHROMIUM_ARGS,
    STUDIO_IMAGE,
    VIEWPORT,
    WATCH_WIDGETS,
    Server,
    TestFailure,
    say,
    studio_preview,
)

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "build" / "browser"
SCREENSHOT = OUTPUT / "studio_app.png"
ENVIRONMENT = {"NST_VGG19_WEIGHTS": "quantized", "TF_CPP_MIN_LOG_LEVEL": "2"}
# An error on the page: a traceback, or an output line that starts with an exception's name
# (the last such line of a traceback is the one reported). Python and the page share it.
ERROR = r"Traceback \(most recent call last\)|^\s*\w*(Error|Exception)\b"
EXCEPTION_LINE = re.compile(r"^\s*(\w*(?:Error|Exception)\b.*)$", re.M)
OUTPUTS_TEXT = """() => [...document.querySelectorAll('.jp-OutputArea-output')]
  .map((out) => out.innerText).join('\\n')"""
# The studio is drawn, or an error shows: no need to wait longer.
STUDIO_OR_ERROR = f"""() => !!document.querySelector('button.nst-studio-preview')
  || new RegExp({json.dumps(ERROR)}, 'm').test(({OUTPUTS_TEXT})())"""
# Voila 0.5's page links Font Awesome from a CDN, which app/voila.json's policy forbids: the
# buttons' icons must come from Voila's own bundle.
ICONS_DRAWN = """() => [...document.fonts].some(
  (font) => font.family.includes('Font Awesome') && font.status === 'loaded')"""
PICTURE_LOADED = """(selector) => { const img = document.querySelector(selector);
  return !!img && img.complete && img.naturalWidth > 0; }"""


class App(Server):
    """`make studio` on a free port, the command a user types."""

    name = "make studio"

    def __init__(self, workdir, startup_timeout):
        super().__init__(workdir, "studio_app.log", startup_timeout)
        self.cwd = REPO
        # TMPDIR: Voila's kernels' connection files go under workdir, so that stop() can find
        # any kernel left over by the path in its command line.
        self.env.update(ENVIRONMENT, TMPDIR=str(workdir), IPYTHONDIR=str(workdir / "ipython"))

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    def command(self):
        return ["make", "--no-print-directory", "studio", f"STUDIO_PORT={self.port}"]

    def ready(self):
        """The port answers (only a connection: a page view would start a kernel)."""
        socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        return True

    def stop(self):
        """A Ctrl-C, as in the terminal of `make studio`: SIGINT to make, its shell and Voila,
        which shuts its kernels down. A kill for whatever is left after 30 s, kernels found by
        their connection files' folder."""
        if self.process is None:
            return
        for sig, seconds in ((signal.SIGINT, 30), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            if _group_ended(self.process.pid, seconds):
                break
        self.process.wait()
        marker = str(self.workdir).encode()
        for pid in _processes(lambda _, cmdline: marker in cmdline):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self.process = None


def _group_ended(group, seconds):
    """Waits up to `seconds` for every process of the group to end; True if they did."""
    deadline = time.monotonic() + seconds
    while _processes(lambda stat, _: stat.split(")")[-1].split()[2] == str(group)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _processes(matches):
    """The ids of the live (not zombie) processes for which matches(stat, cmdline) holds."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (proc / "stat").read_text()
                state = stat.split(")")[-1].split()[0]
                if state != "Z" and matches(stat, (proc / "cmdline").read_bytes()):
                    found.append(int(proc.name))
    return found


def block_other_hosts(context, blocked):
    """Every request of the page to another host than 127.0.0.1 is aborted and noted."""
    def route(request_route):
        url = request_route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)


def check_page(page):
    """No error output, no widget drawn as text or as "Error displaying widget"."""
    shown = page.evaluate(OUTPUTS_TEXT)
    if re.search(ERROR, shown, re.M):
        lines = EXCEPTION_LINE.findall(shown) or ["a traceback"]
        raise TestFailure(f"an error on the page: {lines[-1].strip()[:200]}")
    broken = page.evaluate("window.__nstWidgetErrorSeen")
    if broken:
        raise TestFailure(f"a widget was not drawn: {broken!r}")


def test_app(page, app, args):
    """Open the app, see the studio drawn, Preview; returns the timings' notes."""
    start = time.monotonic()
    page.goto(app.url, timeout=args.timeout * 1000)
    try:
        page.wait_for_function(STUDIO_OR_ERROR, timeout=args.timeout * 1000)
        check_page(page)
        page.wait_for_function(PICTURE_LOADED, arg=STUDIO_IMAGE, timeout=30_000)
    except TestFailure:
        raise
    except Exception:  # noqa: BLE001 (what the page shows instead says more)
        raise TestFailure(f"the studio was not drawn within {args.timeout} s; the page says: "
                          f"{page.inner_text('body')[:200]!r}") from None
    try:
        page.wait_for_function(ICONS_DRAWN, timeout=10_000)
    except Exception:  # noqa: BLE001
        raise TestFailure("the buttons' icons (Font Awesome) were not drawn") from None
    shown = time.monotonic()
    before = page.locator(STUDIO_IMAGE).first.get_attribute("src")
    ended = studio_preview(page, args)
    if ended["src"] == before:
        raise TestFailure(f"Preview ended ({ended['status']!r}) but the picture did not change")
    check_page(page)
    previewed = time.monotonic()
    return (f"studio drawn {shown - start:.0f} s after opening the page, Preview "
            f"{previewed - shown:.0f} s ({ended['status'].rstrip('.')})")


def screenshot(page):
    """The whole page: it scrolls inside #rendered_cells, so the viewport is made as tall."""
    height = page.evaluate("(document.querySelector('#rendered_cells') || document.body)"
                           ".scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, 600)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOT))


def interrupt(signum, frame):
    """Ctrl-C or a kill: stop, through the finally clauses that end the server and browser."""
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds for the studio to appear (default 120)")
    parser.add_argument("--studio-timeout", type=int, default=60,
                        help="seconds for the Preview (default 60)")
    parser.add_argument("--headed", action="store_true", help="show the browser")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="nst-browser-app-"))
    app, blocked, failure = App(workdir, startup_timeout=120), [], None
    try:
        app.start()
        say(f"make studio: {app.url} up in {time.monotonic() - started:.1f} s")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium,
                                                 args=CHROMIUM_ARGS, headless=not args.headed)
            try:
                context = browser.new_context(viewport=VIEWPORT)
                context.add_init_script(WATCH_WIDGETS)
                block_other_hosts(context, blocked)
                page = context.new_page()
                try:
                    notes = test_app(page, app, args)
                finally:
                    with contextlib.suppress(Exception):
                        screenshot(page)
            finally:
                with contextlib.suppress(Exception):
                    browser.close()
        if blocked:
            raise TestFailure(f"{len(blocked)} request(s) for other hosts than 127.0.0.1, "
                              f"first {blocked[0]}")
    except TestFailure as error:
        failure = str(error)
    except KeyboardInterrupt:
        failure = "interrupted"
    except Exception as error:  # noqa: BLE001 (a timeout, a lost page, ...)
        failure = f"{type(error).__name__}: {(str(error).strip() or '?').splitlines()[0]}"
    finally:
        # The clean-up is bounded (about 35 s at most); a second Ctrl-C must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        app.stop()
        with contextlib.suppress(OSError):
            shutil.copy2(app.log_path, OUTPUT / "studio_app.log")
        shutil.rmtree(workdir, ignore_errors=True)
    total = time.monotonic() - started
    if failure:
        say(f"FAIL browser-app ({total:.0f} s): {failure}")
        return 1
    say(f"PASS browser-app ({total:.0f} s): {notes}; screenshot in "
        f"{SCREENSHOT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
