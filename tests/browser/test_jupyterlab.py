"""A reader runs a chapter in JupyterLab (``make lab``), through the UI.

The project's own JupyterLab (``tools/lab.py``, the command ``make lab`` runs)
is started on a free loopback port with a token, serving a temporary copy of
``book/`` whose chapter has its stored outputs cleared (so everything the test
sees was computed now, and the chapters on disk are never touched), with its
workspace, settings and runtime files in a temporary folder, so nothing opened
before reopens. Headless Chromium opens the chapter, accepts the kernel if
JupyterLab asks for one, runs Run → Run All Cells from the menu, and the test
checks what a reader would see: every code cell has run once, in order, no
cell shows an error or a warning, and the chapter's last printed line is on
the page. The browser may only talk to that server.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from browser_site import REPO, artifacts_dir, unavailable
from conftest import launch_chromium

sys.path.insert(0, str(REPO / "tools"))
from lab import lab_command, write_settings  # noqa: E402

#: The chapter run through the UI (any chapter works; this one runs in seconds).
CHAPTER = os.environ.get("COURSE_LAB_CHAPTER", "part1/ch03_io_sequences.ipynb")
START_TIMEOUT_S = 90
RUN_TIMEOUT_MS = int(os.environ.get("COURSE_LAB_TIMEOUT_MS", "240000"))

# Render every cell (JupyterLab 4 renders only the cells near the viewport by
# default), and stay offline: no news, no update check.
TEST_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # Start the notebook's own kernel without asking (the dialog is handled too).
    "@jupyterlab/apputils-extension/sessionDialogs.jupyterlab-settings": {
        "autoStartDefaultKernel": True
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    origin: str
    token: str
    root: Path
    log: Path
    blocked: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.origin}/{path}?token={self.token}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The project's JupyterLab on 127.0.0.1, serving a copy of book/, state in a temp folder."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        unavailable("JupyterLab is not installed (pip install -e '.[test]')")
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "book"
    shutil.copytree(
        REPO / "book", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build")
    )
    clear_outputs(root / CHAPTER)
    state = tmp / "state"
    write_settings(state / "settings", TEST_SETTINGS)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(state / "config"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
        JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
        IPYTHONDIR=str(state / "ipython"),
    )
    cmd = lab_command(
        root,
        [
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--LabApp.workspaces_dir={state / 'workspaces'}",
            f"--LabApp.user_settings_dir={state / 'settings'}",
        ],
    )
    log = artifacts_dir() / "jupyterlab.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        server = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log.read_text()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{origin}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer in {START_TIMEOUT_S} s:\n{log.read_text()}")
            time.sleep(0.5)
        yield Lab(origin, token, root, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def clear_outputs(path: Path) -> None:
    """Remove every stored output and execution count, as "Clear All Outputs" does."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, path)


def last_printed_line(path: Path) -> str:
    """The last non-empty line of the last stdout text the stored chapter shows."""
    nb = nbformat.read(path, as_version=4)
    for cell in reversed(nb.cells):
        for output in reversed(cell.get("outputs", [])):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                lines = [line for line in "".join(output["text"]).splitlines() if line.strip()]
                if lines:
                    return lines[-1].strip()
    raise AssertionError(f"{path} prints nothing")


def accept_kernel_dialog(page: Any, timeout_ms: int) -> None:
    """Click "Select" if JupyterLab asks which kernel to start (within ``timeout_ms``)."""
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    with contextlib.suppress(Exception):
        accept.first.wait_for(timeout=timeout_ms)
    if accept.count():
        accept.first.click()
        accept.first.wait_for(state="detached")


_CELL_STATES = """
() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell')).map((cell) => {
  const prompt = cell.querySelector('.jp-InputArea-prompt');
  return prompt ? prompt.textContent.trim() : '';
})
"""


def test_a_chapter_runs_in_jupyterlab_through_the_menu(
    lab: Lab, playwright: Any, tmp_path: Path
) -> None:
    stored = REPO / "book" / CHAPTER
    expected_line = last_printed_line(stored)
    n_code = sum(1 for c in nbformat.read(stored, as_version=4).cells if c.cell_type == "code")

    def route(route: Any) -> None:
        url = route.request.url
        if url == lab.origin or url.startswith(lab.origin + "/"):
            route.continue_()
        else:
            lab.blocked.append(url)
            route.abort("blockedbyclient")

    context = launch_chromium(playwright, tmp_path / "profile", route)
    shots = artifacts_dir() / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = context.new_page()
    try:
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(lab.url(f"lab/tree/{CHAPTER}"), wait_until="load")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=RUN_TIMEOUT_MS)
        assert not any(page.locator(".jp-OutputArea-output").all_inner_texts()), "outputs before"
        # JupyterLab may ask which kernel to start: a reader takes the one proposed.
        accept_kernel_dialog(page, timeout_ms=5_000)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        accept_kernel_dialog(page, timeout_ms=5_000)
        page.wait_for_function(
            f"""() => {{
              const prompts = ({_CELL_STATES})();
              return prompts.length === {n_code} && prompts.every((p) => /^\\[\\d+\\]:$/.test(p));
            }}""",
            timeout=RUN_TIMEOUT_MS,
        )
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=RUN_TIMEOUT_MS
        )
        prompts = page.evaluate(_CELL_STATES)
        counts = sorted(int(p[1:-2]) for p in prompts)
        assert counts == list(range(1, n_code + 1)), f"cells ran out of order or twice: {prompts}"

        shown_errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error'], "
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        assert shown_errors.count() == 0, "a cell shows an error or a warning:\n" + "\n".join(
            shown_errors.all_inner_texts()
        )
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
        assert any(expected_line in text for text in outputs), (
            f"the chapter's last printed line is not on the page: {expected_line!r}"
        )
        page.screenshot(path=str(shots / "jupyterlab-run-all.png"))
        assert not errors, f"JavaScript errors in JupyterLab: {errors}"
        assert not lab.blocked, f"JupyterLab tried to reach other hosts: {lab.blocked}"
    except Exception:
        page.screenshot(path=str(shots / "jupyterlab-failure.png"))
        raise
    finally:
        context.close()
