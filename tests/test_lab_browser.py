"""JupyterLab as analysts start it: ``make lab`` serves Lab, a notebook opens unmodified in headless
Chromium, and its first cells run and show their output.

``make lab`` is run for real, with the variables a test must override: VENV is the test
environment (so nothing is installed), STAMP a fresh file (so ``setup`` has nothing to do), DATA
the session's synthetic province (so ``synth`` has nothing to do), and LAB_ARGS a free port, a
token and --no-browser. The kernelspec is installed as ``make setup`` installs it (the Makefile's
KERNEL_NAME) into a temporary JUPYTER_PATH folder, which Lab reads before the environment's own.
Chromium is driven over the Chrome DevTools protocol with websocket-client (no driver needed).
Those tests are marked ``browser``; the notebooks' kernel metadata and the briefing's default store
are checked here without a browser.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from welfare_eval.config import REPO_DIR

_needs = pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("make") is None,
                           reason="chromium and make are needed")

#: Seconds to wait for Lab, the browser, the kernel and a cell (a patience, not a timing assertion).
PATIENCE = 180
NOTEBOOK = "notebooks/00_data_quality.ipynb"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path) -> bytes:
    end = time.monotonic() + PATIENCE
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            return urllib.request.urlopen(url, timeout=5).read()
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {PATIENCE} s:\n{log.read_text()[-3000:]}")


class Page:
    """A Chromium tab over the DevTools protocol."""

    def __init__(self, ws_url: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=PATIENCE)
        self.n = 0

    def send(self, method: str, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise AssertionError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_for(self, expression: str, what: str):
        end = time.monotonic() + PATIENCE
        while time.monotonic() < end:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.5)
        self.screenshot(Path(os.environ.get("TMPDIR", "/tmp")) / "lab-browser-failure.png")
        raise AssertionError(f"{what}: not seen within {PATIENCE} s")

    def key(self, key: str, code: str, keycode: int, modifiers: int = 0):
        for kind in ("rawKeyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key=key, code=code, windowsVirtualKeyCode=keycode,
                      modifiers=modifiers)

    def screenshot(self, path: Path) -> Path:
        import base64

        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))
        return path


def _makefile_kernel_name() -> str:
    m = re.search(r"^KERNEL_NAME\s*:?=\s*(.+)$", (REPO_DIR / "Makefile").read_text(), re.MULTILINE)
    assert m, "the Makefile names the kernel it installs in KERNEL_NAME"
    return m.group(1).strip()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    kernels = tmp / "jupyter"
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(tmp / "prefix"), "--name", "python3",
                    "--display-name", _makefile_kernel_name()], check=True, capture_output=True)
    (kernels / "kernels").mkdir(parents=True)
    shutil.copytree(tmp / "prefix" / "share" / "jupyter" / "kernels" / "python3", kernels / "kernels" / "python3")
    stamp = tmp / ".installed"
    stamp.touch()
    data = os.environ["WELFARE_EVAL_TEST_DATA"]
    port, token = _port(), "browser-test"
    env = {**os.environ, "JUPYTER_PATH": str(kernels), "JUPYTER_CONFIG_DIR": str(tmp / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "PYTHONPATH": str(REPO_DIR)}
    log = tmp / "lab.log"
    args = ["make", "-C", str(REPO_DIR), "lab", f"VENV={sys.prefix}", f"STAMP={stamp}", f"DATA={data}",
            f"LAB_ARGS=--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token={token}"]
    with open(log, "w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/status?token={token}", proc, log)
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "log": log, "args": args}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chromium")
    port = _port()
    log = tmp / "chromium.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={tmp / 'profile'}",
                "--window-size=1400,1000",
                "about:blank",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        targets = json.loads(_wait_http(f"http://127.0.0.1:{port}/json/list", proc, log))
        tab = next(t for t in targets if t["type"] == "page")
        p = Page(tab["webSocketDebuggerUrl"])
        p.send("Runtime.enable")
        yield p
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)


@pytest.mark.browser
@_needs
def test_make_lab_serves_the_repository_root_with_the_notebooks(lab):
    """Lab's root is the repository (documented paths such as notebooks/ and docs/ open), as root too."""
    listing = json.loads(urllib.request.urlopen(f"{lab['url']}/api/contents?token={lab['token']}").read())
    names = {c["name"] for c in listing["content"]}
    assert {"notebooks", "docs", "README.md"} <= names
    # make echoes the command: --allow-root exactly when running as root (Lab refuses root without it)
    command = next(line for line in lab["log"].read_text().splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in command) == (os.geteuid() == 0), command


@pytest.mark.browser
@_needs
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to act as another user")
def test_make_lab_as_a_user_does_not_allow_root(lab):
    """The same make line as an ordinary user (uid 65534) has no --allow-root (Lab warns against it)."""
    args = [a for a in lab["args"] if not a.startswith("LAB_ARGS=")]
    res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", args[0], "-n", *args[1:]],
                         capture_output=True, text=True, check=True)
    command = next(line for line in res.stdout.splitlines() if "jupyter lab" in line)
    assert "--allow-root" not in command and f'--ServerApp.root_dir="{REPO_DIR}"' in command


@pytest.mark.browser
@_needs
def test_notebook_opens_unmodified_and_its_first_cells_run(lab, page, tmp_path):
    page.send("Page.navigate", url=f"{lab['url']}/lab/tree/{NOTEBOOK}?token={lab['token']}")
    page.wait_for("!!document.querySelector('.jp-NotebookPanel .jp-Cell')", "the notebook's cells")
    # the kernel started and is idle; the toolbar names the kernel the notebook asked for
    kernel_name = page.wait_for(
        "(() => { const s = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');"
        " const k = document.querySelector("
        "'.jp-NotebookPanel .jp-KernelName, .jp-NotebookPanel .jp-Toolbar-kernelName');"
        " const name = k ? k.textContent.trim() : '';"
        " return s && s.getAttribute('data-status') === 'idle' && name && name !== 'No Kernel' ? name : ''; })()",
        "an idle kernel",
    )
    assert kernel_name == _makefile_kernel_name()
    time.sleep(2)  # let Lab apply what the kernel reported (language_info) before looking at the dirty mark
    assert not page.js("!!document.querySelector('.lm-TabBar-tab.jp-mod-dirty')"), \
        "the notebook shows as modified right after opening"
    # run the markdown cell, the parameters, the imports and the first analysis cell
    page.js("document.querySelector('.jp-NotebookPanel .jp-Cell').click()")
    page.key("Escape", "Escape", 27)
    for _ in range(4):
        page.key("Enter", "Enter", 13, modifiers=8)  # Shift+Enter: run and select the next cell
    text = page.wait_for(
        "(() => { const o = [...document.querySelectorAll('.jp-NotebookPanel .jp-Cell .jp-OutputArea-output')]"
        ".map(e => e.innerText).join('\\n'); return o.length > 40 ? o : ''; })()", "output of the first cells")
    assert "Error" not in text and "Traceback" not in text, text[:2000]
    counts = page.js("[...document.querySelectorAll('.jp-NotebookPanel .jp-InputArea-prompt')]"
                     ".map(e => e.innerText)")
    assert sum(bool(re.search(r"\[\d+\]", c)) for c in counts) >= 3, counts
    page.screenshot(tmp_path / "lab.png")


@pytest.mark.parametrize("notebook", sorted(p.name for p in (REPO_DIR / "notebooks").glob("[0-9][0-9]_*.ipynb")))
def test_notebook_metadata_is_what_the_installed_kernel_reports(notebook):
    """Lab rewrites kernelspec and language_info from the running kernel and marks the notebook
    modified when they differ (found with the browser test: even the Python patch version counts)."""
    import platform

    import nbformat
    from ipykernel.ipkernel import IPythonKernel

    meta = nbformat.read(REPO_DIR / "notebooks" / notebook, as_version=4).metadata
    assert meta["kernelspec"] == {"name": "python3", "display_name": _makefile_kernel_name(), "language": "python"}
    expected = {**IPythonKernel.language_info, "version": platform.python_version()}
    info = dict(meta["language_info"])
    assert info.pop("version").split(".")[:2] == expected.pop("version").split(".")[:2]
    assert info == expected


def test_briefing_by_hand_finds_the_latest_run_or_says_what_to_pass(tmp_path, monkeypatch):
    from welfare_eval.exceptions import RunError
    from welfare_eval.report import briefing

    for var in ("WELFARE_EVAL_RESULTS", "WELFARE_EVAL_REPORTS"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # where Lab starts a notebook's kernel
    with pytest.raises(RunError, match=r"pass results='reports/<run>/results.csv'") as exc:
        briefing.locate("")
    assert str(exc.value).count(".") <= 3  # one sentence (the dots of the file name aside)
    for i, run in enumerate(["2026-11-01", "2026-11-20", "2026-11-10"]):
        d = tmp_path / "reports" / run
        (d / "results").mkdir(parents=True)
        (d / "results.csv").write_text("notebook\n")
        (d / "manifest.json").write_text("{}")
        os.utime(d / "manifest.json", (1_800_000_000 + i * (10 if run != "2026-11-10" else -100),) * 2)
    (tmp_path / "reports" / "not-a-run").mkdir()
    assert briefing.locate("") == tmp_path / "reports" / "2026-11-20" / "results.csv"
    assert briefing.locate("elsewhere/results.csv") == Path("elsewhere/results.csv")
