"""The notebooks in a real browser: JupyterLab in headless Chromium runs each, as a student would.

`make browser-test` runs it (and CI, after `make test`). For each notebook it opens JupyterLab,
clicks Run > Run All Cells, waits until every code cell has its execution count and the kernel
is idle, and fails on an error output, a dead kernel, a widget that is not drawn ("Error
displaying widget", tqdm's progress bars as text), a picture that does not load, LaTeX that
MathJax cannot typeset, or a cell that JupyterLab did not draw. It answers every "Check your
understanding" question (each pick must explain itself) and opens "What to expect" under "Try
this". In notebook 08 it also uses the
studio: two presets, Preview after each, a new picture each time. A full-page screenshot of
each notebook goes to build/browser/.

Nothing in the repository is written: JupyterLab serves a temporary copy of the notebooks (beside
copies of images/, generated_images/ and models/, the layout `make lab` serves), its settings and
workspaces live in that temporary folder too, and autosave is off. With --update-screenshot
the studio's screenshot is also copied to generated_images/studio.png for the README.

    .venv/bin/python .ci/browser_test.py [--update-screenshot] [NOTEBOOK ...]
"""

import argparse
import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "build" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ENVIRONMENT = {"NST_VGG19_WEIGHTS": "quantized", "TF_CPP_MIN_LOG_LEVEL": "2", "NST_QUICK": "1"}
# JupyterLab's user settings for the run. windowingMode "none" attaches every cell to the page:
# by default (contentVisibility, or full windowing) cells out of view are not drawn, and a
# screenshot after Run All is blank below the fold. No blank page after the last cell, no
# autosave, no news from the network.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none", "scrollPastEnd": False},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 30000
STUDIO_NOTEBOOK = "08_interactive_studio.ipynb"
STUDIO_IMAGE = "img.nst-studio-image, .nst-studio-image img"

# One snapshot of the notebook on the page, taken in the browser. An error output is rendered
# as the stderr mime type, like a warning, so it is told apart by its text: a traceback, or a
# line that starts with an exception's name (a SyntaxError has no "Traceback" line).
PAGE_STATE = r"""() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const text = (el) => (el ? el.textContent : '');
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')];
  const codeCells = cells.filter((c) => c.classList.contains('jp-CodeCell'));
  const pending = [], unexecuted = [], errors = [];
  codeCells.forEach((cell, i) => {
    const prompt = text(cell.querySelector('.jp-InputArea-prompt')).trim();
    const source = text(cell.querySelector('.jp-InputArea-editor .cm-content')).trim();
    if (prompt.includes('*')) pending.push(i + 1);
    else if (source && !/\[\d+\]/.test(prompt)) unexecuted.push(i + 1);
    for (const out of cell.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')) {
      const t = text(out);
      if (/Traceback \(most recent call last\)|^\s*\w*(Error|Exception|Interrupt)\b/m.test(t))
        errors.push(`code cell ${i + 1} ${prompt}\n${t.trim()}`);
    }
  });
  const dialog = document.querySelector('.jp-Dialog');
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  return {
    cells: cells.length, codeCells: codeCells.length, pending, unexecuted, errors,
    widgetErrors: [...panel.querySelectorAll('.jp-OutputArea-output')].map((out) => {
      const broken = window.__nstWidgetBroken.exec(out.innerText);
      return broken ? out.innerText.slice(broken.index).split('\n')[0].slice(0, 120) : null;
    }).filter((found) => found),
    dialog: dialog ? dialog.innerText.replace(/\s+/g, ' ').trim() : null,
    loadingWidgets: (text(panel).match(/Loading widget\.\.\./g) || []).length,
    mathErrors: [...panel.querySelectorAll('mjx-merror')].map(
      (e) => e.getAttribute('data-mjx-error') || text(e)),
    kernel: indicator ? indicator.getAttribute('data-status') : null,
    progressSeen: window.__nstProgressSeen || 0,
    widgetErrorSeen: window.__nstWidgetErrorSeen || null,
  };
}"""

# Installed before JupyterLab loads: tqdm's bars close when they finish (leave=False), so they
# are counted when they appear, and a widget that did not render is noted when it shows in an
# output: an "Error displaying widget", tqdm's text fallback ("IProgress not found" or a text
# bar, when ipywidgets is missing), or a widget's text repr such as "HBox(children=...)" (when
# JupyterLab has no widget manager).
WATCH_WIDGETS = r"""
window.__nstWidgetBroken = new RegExp([
  'Error displaying widget', 'IProgress not found', '\\d+%\\|[^|\\n]*\\|\\s*\\d+/\\d+ \\[',
  '^\\s*(HBox|VBox|Box|GridBox|Button|Image|Label|HTML|IntProgress|FloatProgress|IntSlider|'
    + 'FloatSlider|Dropdown|Checkbox|Text|Textarea|ToggleButtons|Output|Tab|Accordion)'
    + '\\((children|value|description|layout|outputs|options)=',
].join('|'), 'm');
window.__nstProgressSeen = 0;
window.__nstWidgetErrorSeen = null;
const seen = new WeakSet();
new MutationObserver((mutations) => {
  for (const m of mutations) for (const node of m.addedNodes) {
    if (node.nodeType !== 1) continue;
    const bars = node.matches('.widget-hprogress') ? [node]
      : [...node.querySelectorAll('.widget-hprogress')];
    for (const bar of bars) if (!seen.has(bar)) { seen.add(bar); window.__nstProgressSeen++; }
    const output = node.closest('.jp-OutputArea-output');
    const outputs = output ? [output] : [...node.querySelectorAll('.jp-OutputArea-output')];
    for (const out of outputs) {
      const broken = window.__nstWidgetBroken.exec(out.textContent);
      if (broken && !window.__nstWidgetErrorSeen)
        window.__nstWidgetErrorSeen = out.textContent.slice(broken.index, broken.index + 120);
    }
  }
}).observe(document, {childList: true, subtree: true});
"""

PICTURES = r"""() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell img')]
  .map((img) => ({src: (img.getAttribute('src') || '').split('?')[0].slice(0, 120),
                  ok: img.complete && img.naturalWidth > 0}))"""
PICTURES_LOADED = f"() => ({PICTURES})().every((picture) => picture.ok)"


class TestFailure(Exception):
    """A check failed; the message says which and why."""


def say(*parts):
    print(*parts, flush=True)


def free_port():
    """A port that was free a moment ago (the server is told to fail rather than pick another,
    and is restarted on a new port if another process took it meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A server started on a free port of 127.0.0.1 in a session of its own (a Ctrl-C in the
    terminal reaches this script, which stops it), its output in a log. A subclass names
    its command(), says when it is ready() and how to stop() it."""

    name = "the server"

    def __init__(self, workdir, log_name, startup_timeout):
        self.workdir = workdir
        self.log_path = workdir / log_name
        self.startup_timeout = startup_timeout
        self.process = None
        self.port = None
        self.env = dict(os.environ)
        self.cwd = workdir

    def start(self):
        """On a new port if another process took the free one meanwhile."""
        for _attempt in range(3):
            self.port = free_port()
            log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the server's life)
            self.process = subprocess.Popen(self.command(), cwd=self.cwd, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
            log.close()
            if self._wait_ready():
                return
            if "already in use" not in self.log_tail():
                break
        raise TestFailure(f"{self.name} did not start; its log ends:\n{self.log_tail()}")

    def _wait_ready(self):
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(OSError, ValueError):
                if self.ready():
                    return True
            time.sleep(0.3)
        self.stop()
        return False

    def log_tail(self, lines=25):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Lab(Server):
    """A JupyterLab server on 127.0.0.1 serving a temporary copy of the course."""

    name = "JupyterLab"

    def __init__(self, notebooks, workdir, startup_timeout, quick=True):
        super().__init__(workdir, "jupyter.log", startup_timeout)
        self.root = self.cwd = workdir / "root"
        self.token = secrets.token_hex(24)
        (self.root / "notebooks").mkdir(parents=True)
        for folder in ("images", "generated_images", "models"):  # models: the trained networks
            if (REPO / folder).is_dir():
                shutil.copytree(REPO / folder, self.root / folder)
        # The course's modules too, imported from the copy (PYTHONPATH, below) rather than
        # from the editable install: the studio then shows its folder as a student sees it,
        # ../generated_images, and not this checkout's absolute path.
        for module in REPO.glob("nst_*.py"):
            shutil.copy2(module, self.root / module.name)
        for notebook in notebooks:
            shutil.copy2(notebook, self.root / "notebooks" / notebook.name)
        settings = workdir / "settings"
        for plugin, values in LAB_SETTINGS.items():
            package, name = plugin.split(":")
            path = settings / package / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.env.update(ENVIRONMENT)
        if not quick:
            del self.env["NST_QUICK"]
        self.env.update(
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(workdir / "workspaces"),
            JUPYTER_CONFIG_DIR=str(workdir / "config"),
            JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
            IPYTHONDIR=str(workdir / "ipython"),
            PYTHONPATH=os.pathsep.join(filter(None, [str(self.root),
                                                     os.environ.get("PYTHONPATH")])),
            PATH=f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        )

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def command(self):
        command = [
            str(Path(sys.prefix) / "bin" / "jupyter"), "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.default_url=/lab/tree/notebooks",
        ]
        return command + (["--allow-root"] if os.geteuid() == 0 else [])

    def ready(self):
        return "started" in self.api("GET", "/api/status", timeout=2)

    def api(self, method, path, timeout=10):
        request = urllib.request.Request(self.url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def kernel_state(self, notebook_name):
        """The server's execution state of the notebook's kernel, once a page is connected."""
        with contextlib.suppress(OSError, ValueError):
            for session in self.api("GET", "/api/sessions"):
                kernel = session.get("kernel") or {}
                if session["path"].endswith(notebook_name) and kernel.get("connections"):
                    return kernel.get("execution_state")
        return None

    def shut_down_kernel(self, notebook_name):
        """Frees the notebook's kernel (each one holds a TensorFlow and its VGG19), in the
        background: the next notebook need not wait for it (stop() ends any kernel left)."""
        def shut_down():
            with contextlib.suppress(OSError, ValueError):
                for session in self.api("GET", "/api/sessions"):
                    if session["path"].endswith(notebook_name):
                        self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30)

        threading.Thread(target=shut_down, daemon=True).start()

    def kernel_restarts(self):
        try:
            return self.log_path.read_text(errors="replace").count("restarting kernel")
        except OSError:
            return 0

    def stop(self):
        """Asks the server to shut down (it stops its kernels), then insists."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.api("POST", "/api/shutdown", timeout=5)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, sig)
                    try:
                        self.process.wait(timeout=wait)
                        break
                    except subprocess.TimeoutExpired:
                        continue
        # Kernels run in sessions of their own; any left over is found by its connection
        # file, which lies in this run's temporary runtime folder.
        marker = str(self.workdir).encode()
        for proc in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
            if proc.name.isdigit():
                with contextlib.suppress(OSError):
                    if marker in (proc / "cmdline").read_bytes():
                        os.kill(int(proc.name), signal.SIGKILL)
        self.process = None


def tall_viewport(page):
    """JupyterLab scrolls inside the notebook, not the page: for a screenshot of all of it, the
    viewport is made as tall as the notebook."""
    extra = page.evaluate("""() => {
      const outer = document.querySelector(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
      return outer ? outer.scrollHeight - outer.clientHeight : 0;
    }""")
    height = min(VIEWPORT["height"] + max(extra, 0), MAX_SCREENSHOT_HEIGHT)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.evaluate("""() => document.querySelectorAll(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer')
      .forEach((outer) => { outer.scrollTop = 0; })""")
    page.wait_for_timeout(500)


def full_page_screenshot(page, path):
    tall_viewport(page)
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)


def open_notebook(page, lab, name, index):
    # A workspace of its own per notebook, so that none reopens the one before.
    page.goto(f"{lab.url}/lab/workspaces/browser-test-{index}/tree/notebooks/{name}"
              f"?reset&token={lab.token}")
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first.wait_for(
        timeout=60_000)
    # The kernel is up when the server has it idle with the page connected, and the
    # notebook's execution indicator says idle too (it does before there is a kernel).
    deadline = time.monotonic() + 90
    while lab.kernel_state(name) != "idle":
        if time.monotonic() > deadline:
            raise TestFailure(f"the kernel did not start within 90 s: {lab.kernel_state(name)}")
        page.wait_for_timeout(300)
    page.wait_for_function(
        """() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) '
              + '.jp-Notebook-ExecutionIndicator[data-status="idle"]')""",
        timeout=30_000)
    # Fold the file browser away: the screenshots show the notebook only.
    with contextlib.suppress(Exception):
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click(timeout=3000)


def run_all(page):
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
    page.locator(".lm-Menu-item", has=label).click()
    try:  # Some cell is queued or has run: the click reached the notebook.
        page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) '
              + '.jp-CodeCell .jp-InputArea-prompt')].some((p) => /[*\\d]/.test(p.textContent))""",
            timeout=20_000)
    except Exception:  # noqa: BLE001
        raise TestFailure("Run > Run All Cells started no cell within 20 s") from None


def wait_until_done(page, lab, expected_cells, timeout, restarts_before):
    """Polls the page until every code cell ran and the kernel is idle; raises on any error."""
    deadline = time.monotonic() + timeout
    done_once = False
    state = None
    while True:
        state = page.evaluate(PAGE_STATE)
        if state is None:
            raise TestFailure("the notebook panel disappeared")
        check_state(state)
        if lab.kernel_restarts() > restarts_before:
            raise TestFailure("the kernel died and was restarted (see build/browser/jupyter.log)")
        if lab.process.poll() is not None:
            raise TestFailure("the Jupyter server exited")
        done = not state["pending"] and not state["unexecuted"] and state["kernel"] == "idle"
        if done and done_once:
            break
        done_once = done
        if time.monotonic() > deadline:
            raise TestFailure(
                f"not finished after {timeout} s: cells still queued {state['pending']}, "
                f"never run {state['unexecuted']}, kernel {state['kernel']}")
        page.wait_for_timeout(500)
    if state["loadingWidgets"]:
        # A widget whose model never reaches the page stays at "Loading widget..." (and may
        # turn into "Error displaying widget" later): give it a few seconds, then fail.
        try:
            page.wait_for_function(
                """() => !document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')
                  .textContent.includes('Loading widget...')""", timeout=15_000)
        except Exception:  # noqa: BLE001
            check_state(page.evaluate(PAGE_STATE))
            raise TestFailure("a widget is still 'Loading widget...' 15 s after the run: its "
                              "model never reached the page") from None
        state = page.evaluate(PAGE_STATE)
        check_state(state)
    if state["cells"] != expected_cells:
        raise TestFailure(
            f"JupyterLab drew {state['cells']} of the notebook's {expected_cells} cells: "
            "is windowingMode 'none' still in effect?")
    return state


def check_state(state):
    if state["errors"]:
        raise TestFailure("error output:\n" + "\n\n".join(state["errors"])[:3000])
    if state["widgetErrors"] or state["widgetErrorSeen"]:
        raise TestFailure(f"a widget was not drawn as a widget: "
                          f"{(state['widgetErrors'] or [state['widgetErrorSeen']])[0]}")
    if state["mathErrors"]:
        raise TestFailure(f"MathJax could not typeset: {state['mathErrors'][:3]}")
    if state["dialog"]:
        raise TestFailure(f"JupyterLab showed a dialog: {state['dialog'][:300]}")
    if state["kernel"] in ("dead", "restarting", "autorestarting"):
        raise TestFailure(f"the kernel is {state['kernel']}")


def check_pictures(page):
    """Every picture in the notebook loaded: plots, and the markdown's ../images/... files."""
    try:
        page.wait_for_function(PICTURES_LOADED, timeout=15_000)
    except Exception:  # noqa: BLE001 (the list below says which)
        broken = [p["src"] for p in page.evaluate(PICTURES) if not p["ok"]]
        raise TestFailure(f"pictures that did not load: {broken}") from None
    return len(page.evaluate(PICTURES))


# A Preview has ended when the button is enabled again and the status line has moved on from
# what it said before the click and from the run's progress ("Preview: 4 evaluations ...").
STUDIO_ENDED = r"""([image, before]) => {
  const button = document.querySelector('button.nst-studio-preview');
  const status = document.querySelector('.nst-studio-status');
  const now = status ? status.innerText.trim() : '';
  if (!button || button.disabled || now === before || now.startsWith('Preview:')) return false;
  const img = document.querySelector(image);
  return {status: now, src: img ? img.getAttribute('src') : null,
          loaded: !!img && img.complete && img.naturalWidth > 0};
}"""
# Two presets of one guided exploration (they differ by construction, so their pictures must
# too): buttons of class nst-studio-preset if the studio names them, else the first row of
# the studio that is a label followed by buttons ("Which layers?  shallow layers  deep layers").
STUDIO_PRESETS = r"""() => {
  const named = [...document.querySelectorAll('.nst-studio button.nst-studio-preset')];
  if (named.length >= 2) return named.map((b) => b.innerText.trim());
  for (const row of document.querySelectorAll('.nst-studio .widget-hbox')) {
    const buttons = [...row.children].filter((child) => child.tagName === 'BUTTON');
    const first = row.firstElementChild;
    if (first && first.classList.contains('widget-label') && buttons.length >= 2)
      return buttons.map((b) => b.innerText.trim());
  }
  return [];
}"""


def studio_preview(page, args):
    """Clicks the studio's Preview button and waits for its run to end with a picture."""
    status = page.locator(".nst-studio-status").first
    before = status.inner_text().strip()
    page.locator("button.nst-studio-preview").first.click()
    try:
        ended = page.wait_for_function(STUDIO_ENDED, arg=[STUDIO_IMAGE, before],
                                       timeout=args.studio_timeout * 1000).json_value()
    except Exception:  # noqa: BLE001
        raise TestFailure(f"Preview did not finish within {args.studio_timeout} s; status: "
                          f"{status.inner_text().strip()!r}") from None
    if not re.match(r"Run \d+ \(preview\) done", ended["status"]):
        raise TestFailure(f"Preview did not succeed: {ended['status']!r}")
    if not ended["src"] or not ended["loaded"]:
        raise TestFailure(f"Preview finished ({ended['status']!r}) but shows no picture")
    return ended


def check_studio(page, args):
    """Notebook 08, as a student uses the studio: pick a preset, Preview, pick the other preset
    of the same exploration, Preview again. Each run must end with a picture, and the second
    picture must differ from the first (a Preview with unchanged settings may well repeat the
    picture, byte for byte: the runs are seeded)."""
    page.locator("button.nst-studio-preview").first.wait_for(timeout=30_000)
    page.locator(STUDIO_IMAGE).first.wait_for(state="attached", timeout=30_000)
    presets = page.evaluate(STUDIO_PRESETS)[:2]
    if len(presets) < 2:
        raise TestFailure("found no pair of preset buttons in the studio")
    pictures = []
    for preset in presets:
        page.locator(".nst-studio button",
                     has_text=re.compile(f"^{re.escape(preset)}$")).first.click()
        page.wait_for_function(
            "(name) => document.querySelector('.nst-studio-status').innerText.includes(name)",
            arg=preset, timeout=30_000)
        ended = studio_preview(page, args)
        pictures.append(ended["src"])
    if pictures[0] == pictures[1]:
        raise TestFailure(f"the picture did not change between presets {presets}")
    check_state(page.evaluate(PAGE_STATE))
    # The whole studio: the page is made as tall as the notebook, as for the full screenshot.
    tall_viewport(page)
    page.locator(".nst-studio").first.screenshot(path=str(OUTPUT / "studio.png"))
    page.set_viewport_size(VIEWPORT)
    if args.update_screenshot:
        shutil.copy2(OUTPUT / "studio.png", REPO / "generated_images" / "studio.png")
        say("    studio screenshot copied to generated_images/studio.png")
    rendered = studio_render_stop_save(page, args)
    instant = studio_instant(page, args)
    return (f"presets {presets[0]!r} then {presets[1]!r}: {ended['status']}; {rendered}; "
            f"{instant}")


STUDIO_STATUS = "document.querySelector('.nst-studio-status').innerText"


def studio_render_stop_save(page, args):
    """Render (coarse to fine at the studio's default size), see the picture change while it
    runs, Stop it (the best picture is kept), Save it into build/browser/studio-save/, and
    Save again: the second Save must refuse to overwrite."""
    status = page.locator(".nst-studio-status").first
    image = page.locator(STUDIO_IMAGE).first
    page.locator("button.nst-studio-render").first.click()
    seen, deadline = {image.get_attribute("src")}, time.monotonic() + 2 * args.studio_timeout
    while len(seen) < 3:  # two live updates at least
        if time.monotonic() > deadline:
            raise TestFailure(f"Render showed {len(seen) - 1} picture update(s) in "
                              f"{2 * args.studio_timeout} s; status: {status.inner_text()!r}")
        page.wait_for_timeout(500)
        seen.add(image.get_attribute("src"))
    page.locator("button.nst-studio-stop").first.click()
    page.wait_for_function(f"() => /\\(render\\) (stopped|done)/.test({STUDIO_STATUS})",
                           timeout=args.studio_timeout * 1000)
    stopped = status.inner_text().strip()
    folder = OUTPUT / "studio-save"
    shutil.rmtree(folder, ignore_errors=True)
    page.locator(".nst-studio-folder input").first.fill(str(folder))
    page.locator("button.nst-studio-save").first.click()
    page.wait_for_function(f"() => /^Saved /.test({STUDIO_STATUS})", timeout=30_000)
    saved = sorted(path.suffix for path in folder.glob("*"))
    if saved != [".jpg", ".json"]:
        raise TestFailure(f"Save wrote {saved} into {folder}, not a picture and its JSON")
    page.locator("button.nst-studio-save").first.click()
    page.wait_for_function(f"() => /exists already/.test({STUDIO_STATUS})", timeout=30_000)
    return f"Render: {len(seen) - 1} live updates, then {stopped!r}; saved, not overwritten"


def _options_laid_out_one_under_another(number, options):
    """Each option's text inside its own label, below the previous one, its radio button
    inside it: a long option must wrap, not spill over its neighbour."""
    boxes = [options.nth(i).bounding_box() for i in range(options.count())]
    texts = [options.nth(i).evaluate("l => l.scrollHeight - l.clientHeight")
             for i in range(options.count())]
    for above, below in zip(boxes, boxes[1:], strict=False):
        if below["y"] < above["y"] + above["height"] - 1:
            raise TestFailure(f"question {number + 1}: its options overlap")
    if any(spill > 1 for spill in texts):
        raise TestFailure(f"question {number + 1}: an option's text spills out of its label")


def check_quiz_and_expectations(page):
    """"Check your understanding": in each question, pick the options one by one until the
    feedback says "Right."; every pick must show its explanation. Then open "What to expect"
    under "Try this" and see its items."""
    questions = page.locator(".nst-quiz .nst-quiz-question")
    if questions.count() == 0:
        raise TestFailure("no Check-your-understanding questions were drawn")
    for number in range(questions.count()):
        question = questions.nth(number)
        options = question.locator(".widget-radio-box label")
        _options_laid_out_one_under_another(number, options)
        verdicts, shown = [], ""
        for option in range(options.count()):
            options.nth(option).click()
            # Each option explains itself: wait for this option's text to replace the last.
            question.element_handle().wait_for_selector(".nst-quiz-feedback", timeout=10_000)
            page.wait_for_function(
                "([q, before]) => { const f = q.querySelector('.nst-quiz-feedback');"
                " return f && f.innerText.trim() !== before; }",
                arg=[question.element_handle(), shown], timeout=10_000)
            shown = question.locator(".nst-quiz-feedback").inner_text().strip()
            verdicts.append(shown.split(".")[0])
            if verdicts[-1] == "Right":
                break
        if verdicts[-1:] != ["Right"] or any(v != "Not quite" for v in verdicts[:-1]):
            raise TestFailure(f"question {number + 1}: feedback {verdicts} after picking "
                              "its options in turn")
    expectations = page.locator("details", has=page.locator("summary",
                                                            has_text="What to expect"))
    if expectations.count() != 1:
        raise TestFailure(f"{expectations.count()} 'What to expect' blocks, expected 1")
    expectations.locator("summary").click()
    items = expectations.locator("li")
    opened = expectations.evaluate("d => d.open")
    if not opened or items.count() == 0 or not items.first.is_visible():
        raise TestFailure("'What to expect' did not open on a click, or holds no items")
    return f"{questions.count()} questions answered, {items.count()} expectations opened"


INSTANT_ENABLED = "() => !document.querySelector('button.nst-studio-instant').disabled"
BROKEN_IMAGES = """() => [...document.querySelectorAll('.nst-studio img')]
  .filter((i) => i.offsetParent !== null && i.complete && i.naturalWidth === 0).length"""


def studio_instant(page, args):
    """Choose the painting that has a trained network (the Great Wave): Instant paints at
    once, with no broken image where a run's cost curve would be; choose one without a
    network and Instant is disabled again."""
    image = page.locator(STUDIO_IMAGE).first
    page.locator('.nst-studio button[title="hokusai_great_wave"]').first.click()
    page.wait_for_function(INSTANT_ENABLED, timeout=30_000)
    before = image.get_attribute("src")
    page.locator("button.nst-studio-instant").first.click()
    page.wait_for_function(f"() => /\\(instant\\): painted/.test({STUDIO_STATUS})",
                           timeout=args.studio_timeout * 1000)
    painted = page.evaluate(STUDIO_STATUS).split(".")[0]
    if image.get_attribute("src") == before:
        raise TestFailure(f"Instant did not change the picture ({painted!r})")
    broken = page.evaluate(BROKEN_IMAGES)
    if broken:
        raise TestFailure(f"{broken} broken image(s) in the studio after Instant")
    trained = {path.name.split(".")[0] for path in (REPO / "models").glob("*.weights.npz")}
    untrained = sorted(path.stem for path in (REPO / "images" / "style").glob("*.jpg")
                       if path.stem not in trained)
    if not untrained:
        return f"Instant: {painted!r}; every painting has a network"
    page.locator(f'.nst-studio button[title="{untrained[0]}"]').first.click()
    page.wait_for_function(f"() => !({INSTANT_ENABLED.removeprefix('() => ')})",
                           timeout=30_000)
    return f"Instant: {painted!r}, disabled for {untrained[0]}, which has no network"


def test_notebook(page, lab, notebook, index, args):
    expected_cells = len(json.loads(notebook.read_text())["cells"])
    restarts = lab.kernel_restarts()
    screenshot = OUTPUT / f"{notebook.stem}.png"
    try:
        start = time.monotonic()
        open_notebook(page, lab, notebook.name, index)
        opened = time.monotonic()
        run_all(page)
        state = wait_until_done(page, lab, expected_cells, args.timeout, restarts)
        ran = time.monotonic()
        pictures = check_pictures(page)
        notes = [f"open {opened - start:.0f} s, run all {ran - opened:.0f} s",
                 f"{state['codeCells']} code cells", f"{pictures} pictures",
                 f"{state['progressSeen']} progress bars"]
        notes.append(check_quiz_and_expectations(page))
        if notebook.name == STUDIO_NOTEBOOK:
            notes.append(f"studio: {check_studio(page, args)}")
        return ", ".join(notes), state["progressSeen"]
    finally:
        with contextlib.suppress(Exception):
            full_page_screenshot(page, screenshot)
        lab.shut_down_kernel(notebook.name)


INTERRUPTED = []


def interrupt(signum, frame):
    """Ctrl-C or a kill: stop, through the finally clauses that end the server and browser.
    A Ctrl-C also reaches Playwright's driver, which may close the browser first: the error
    that this causes in the test is then reported as the interruption it is."""
    INTERRUPTED.append(signum)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # the driver's closed pipe
    raise KeyboardInterrupt


def default_notebooks():
    found = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not any(path.name == STUDIO_NOTEBOOK for path in found):
        say(f"skipped: notebooks/{STUDIO_NOTEBOOK} does not exist (yet)")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every numbered one in notebooks/)")
    parser.add_argument("--update-screenshot", action="store_true",
                        help="copy the studio's screenshot to generated_images/studio.png")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--timeout", type=int,
                        help="seconds for one notebook's Run All (default 180; 900 with --full)")
    parser.add_argument("--studio-timeout", type=int, default=60,
                        help="seconds for the studio's preview (default 60)")
    parser.add_argument("--full", action="store_true",
                        help="student settings instead of quick mode (NST_QUICK unset): slow, "
                             "for a README screenshot of the studio")
    parser.add_argument("--headed", action="store_true", help="show the browser")
    args = parser.parse_args()
    args.timeout = args.timeout or (900 if args.full else 180)

    from playwright.sync_api import sync_playwright

    notebooks = [path.resolve() for path in args.notebooks] or default_notebooks()
    names = [path.name for path in notebooks]
    if len(set(names)) != len(names):
        parser.error("two notebooks with the same name")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in [*OUTPUT.glob("*.png"), OUTPUT / "jupyter.log"]:
        old.unlink(missing_ok=True)
    # Stop cleanly on a kill as on a Ctrl-C: the finally clauses below end the server and
    # the browser.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    failures = []
    progress_bars = passed = 0
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="nst-browser-test-"))
    lab = None
    try:
        lab = Lab(notebooks, workdir, startup_timeout=120, quick=not args.full)
        lab.start()
        say(f"JupyterLab on {lab.url}, serving a copy of the course in {lab.root}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium,
                                                 args=CHROMIUM_ARGS, headless=not args.headed)
            try:
                context = browser.new_context(viewport=VIEWPORT)
                context.add_init_script(WATCH_WIDGETS)
                for index, notebook in enumerate(notebooks, start=1):
                    page = context.new_page()
                    start = time.monotonic()
                    try:
                        notes, bars = test_notebook(page, lab, notebook, index, args)
                        progress_bars += bars
                        passed += 1
                        say(f"PASS {notebook.name:42} {time.monotonic() - start:6.1f} s  "
                            f"({notes})")
                    except TestFailure as failure:
                        if INTERRUPTED:
                            raise KeyboardInterrupt from None
                        failures.append(notebook.name)
                        say(f"FAIL {notebook.name:42} {time.monotonic() - start:6.1f} s  "
                            f"{failure}")
                    except Exception as error:  # noqa: BLE001 (a timeout, a lost page, ...)
                        if INTERRUPTED:
                            raise KeyboardInterrupt from None
                        failures.append(notebook.name)
                        first_line = str(error).strip().splitlines()[0] if str(error) else ""
                        say(f"FAIL {notebook.name:42} {time.monotonic() - start:6.1f} s  "
                            f"{type(error).__name__}: {first_line}")
                    finally:
                        with contextlib.suppress(Exception):
                            page.close()
            finally:
                with contextlib.suppress(Exception):
                    browser.close()
    except TestFailure as failure:
        say(f"FAIL {failure}")
        failures.append("setup")
    except KeyboardInterrupt:
        say("interrupted")
        failures.append("interrupted")
    finally:
        # The clean-up is bounded (about 30 s at most); a second Ctrl-C must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if lab is not None:
            lab.stop()
            with contextlib.suppress(OSError):
                shutil.copy2(lab.log_path, OUTPUT / "jupyter.log")
        shutil.rmtree(workdir, ignore_errors=True)
    if not args.notebooks and not failures and progress_bars == 0:
        # The course's optimisations show tqdm bars (notebook 04 at least): none at all means
        # they no longer reach the page as widgets.
        say("FAIL no tqdm progress bar was drawn as a widget in any notebook")
        failures.append("progress bars")
    say(f"screenshots in {OUTPUT.relative_to(REPO)}/; {time.monotonic() - started:.0f} s in all")
    say(f"browser-test: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
