"""JupyterLab, where analysts explore: a real headless server on a copy of the notebooks.

The server is started the way ``make lab`` starts it (``python -m jupyterlab --no-browser``, on
127.0.0.1, with a token), with its home, configuration, data and runtime folders in a temporary
directory so that nothing leaks into the user's. The tests fetch the lab page, read a notebook
through the contents REST API, open it in a session (the server starts its kernel) and run its code
cells over the kernel's websocket, the way the browser does, after changing the period and segment
in the parameters cell as an analyst would. The reported numbers must equal what
``metrics --format json`` prints for that period and segment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import websocket

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]

TOKEN = "metrics-lib-test-token"
NOTEBOOK = "02_retention.ipynb"
FAMILY = "retention"
# what an analyst types into the parameters cell before Run All
PERIOD, SEGMENT = "2025-Q3", "SMB"
START_TIMEOUT = 120  # seconds for the server to answer
CELL_TIMEOUT = 300  # seconds for one cell
RUN_TIMEOUT = 600  # seconds for the whole notebook


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab server: its base URL and small REST helpers."""

    def __init__(self, url: str, root: Path, log: Path):
        self.url, self.root, self.log = url, root, log

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()

    def get_json(self, path: str):
        status, _, body = self.request("GET", path)
        assert status == 200, (path, status)
        return json.loads(body)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "notebooks"
    shutil.copytree(PROJECT_ROOT / "notebooks", root)  # the repository's notebooks stay untouched
    home = base / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    env.pop("MPLBACKEND", None)  # the kernel chooses its inline backend, as for an analyst
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        METRICS_LIB_CACHE_DIR="off",
    )
    env["JUPYTER_PREFER_ENV_PATH"] = "1"  # as `make lab` sets it
    home.mkdir()
    port = _free_port()
    log = base / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
    ]
    if os.geteuid() == 0:  # containers and CI often run as root, which Jupyter refuses by default
        cmd.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = Lab(f"http://127.0.0.1:{port}", root, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{server.log_text()}")
            try:
                if server.request("GET", "/api/status", timeout=5)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer within {START_TIMEOUT} s:\n{server.log_text()}")
            time.sleep(0.5)
        yield server
    finally:
        proc.terminate()  # SIGTERM: the server shuts its kernels down and exits
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the server and the kernels it started, nothing else
            proc.wait(timeout=30)


def test_the_lab_page_is_served(lab):
    status, content_type, body = lab.request("GET", "/lab")
    assert status == 200
    assert content_type.startswith("text/html")
    assert "JupyterLab" in body.decode("utf-8")


def test_the_url_is_printed(lab):
    # a token given on the command line is printed masked ("token=..."); `make lab` lets the
    # server generate one and prints it whole
    assert f"{lab.url}/lab?token=" in lab.log_text()


def test_the_project_kernel_is_the_default(lab):
    specs = lab.get_json("/api/kernelspecs")
    assert specs["default"] == "python3"
    notebook = json.loads((PROJECT_ROOT / "notebooks" / NOTEBOOK).read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] in specs["kernelspecs"]


def test_every_notebook_is_listed(lab):
    listing = lab.get_json("/api/contents/")
    names = {item["name"] for item in listing["content"] if item["type"] == "notebook"}
    assert names == {p.name for p in (PROJECT_ROOT / "notebooks").glob("*.ipynb")}
    assert NOTEBOOK in names


def _message(msg_type: str, content: dict, session: str) -> dict:
    msg_id = uuid.uuid4().hex
    return {
        "header": {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "test",
            "session": session,
            "date": "",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "content": content,
        "channel": "shell",
        "buffers": [],
    }


def _execute(ws, code: str, session: str, deadline: float) -> list[dict]:
    """Run ``code`` in the kernel; its iopub outputs (streams, results, errors) once it is idle."""
    request = _message(
        "execute_request",
        {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        session,
    )
    ws.send(json.dumps(request))
    msg_id = request["header"]["msg_id"]
    outputs, replied, idle = [], None, False
    while replied is None or not idle:
        ws.settimeout(max(1.0, min(CELL_TIMEOUT, deadline - time.monotonic())))
        if time.monotonic() > deadline:
            raise TimeoutError(f"the notebook took longer than {RUN_TIMEOUT} s")
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        if msg["channel"] == "shell" and kind == "execute_reply":
            replied = msg["content"]
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
        elif kind in ("stream", "execute_result", "display_data", "error"):
            outputs.append({"type": kind, **msg["content"]})
    assert replied["status"] == "ok", (code, replied, outputs)
    return outputs


def _text(outputs: list[dict]) -> str:
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in outputs)


def test_a_notebook_runs_in_a_kernel_the_server_started(lab):
    # the notebook as JupyterLab opens it, through the contents API
    model = lab.get_json(f"/api/contents/{NOTEBOOK}?content=1")
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    parameters = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(parameters) == 1
    assert "period" in parameters[0]["source"] and "segment" in parameters[0]["source"]

    # opening the notebook: JupyterLab asks for a session, and the server starts its kernel
    status, _, body = lab.request(
        "POST",
        "/api/sessions",
        {"path": NOTEBOOK, "name": NOTEBOOK, "type": "notebook", "kernel": {"name": "python3"}},
    )
    assert status == 201
    opened = json.loads(body)
    kernel = opened["kernel"]
    assert kernel["name"] == "python3"
    assert kernel["id"] in {k["id"] for k in lab.get_json("/api/kernels")}
    session = uuid.uuid4().hex
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{lab.url.rsplit(':', 1)[1]}/api/kernels/{kernel['id']}/channels?session_id={session}",
        header=[f"Authorization: token {TOKEN}"],
        timeout=CELL_TIMEOUT,
    )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        # the kernel is the project's Python, and it starts in the notebook's folder
        where = _text(
            _execute(ws, "import os, sys\nprint(sys.prefix)\nprint(os.getcwd())", session, deadline)
        )
        assert where.split("\n")[:2] == [sys.prefix, str(lab.root)]

        outputs, summaries = [], []
        for cell in cells:
            if cell["cell_type"] != "code":
                continue
            code = cell["source"]
            if cell is parameters[0]:  # the analyst's edit of the parameters cell
                code = re.sub(r'^period: str = ".*?"', f'period: str = "{PERIOD}"', code, count=1, flags=re.M)
                code = re.sub(
                    r'^segment: str = ".*?"', f'segment: str = "{SEGMENT}"', code, count=1, flags=re.M
                )
                assert f'"{PERIOD}"' in code and f'"{SEGMENT}"' in code, code
            outputs = _execute(ws, code, session, deadline)
            assert not [o for o in outputs if o["type"] == "error"], (code, outputs)
            if "wb.summary()" in code:
                summaries.append(_text(outputs))
    finally:
        ws.close()
        lab.request("DELETE", f"/api/sessions/{opened['id']}")  # shuts the kernel down

    # "About the data" names the period and segment every number above is for
    assert len(summaries) == 1 and PERIOD in summaries[0] and SEGMENT in summaries[0], summaries

    # the last cell prints the reported numbers: they equal what the command line computes
    printed = _text(outputs).splitlines()
    assert printed[-1].startswith(f"Name: {PERIOD}"), printed
    shown = {}
    for line in printed[:-1]:
        name, value = line.split()
        shown[name] = None if value in ("None", "NaN", "nan") else float(value)
    args = f"metrics --data data/demo --period {PERIOD} --segment {SEGMENT} --format json".split()
    cli = subprocess.run(
        [sys.executable, "-m", "metrics_lib", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "METRICS_LIB_CACHE_DIR": "off"},
    )
    assert cli.returncode == 0, cli.stderr
    expected = {k: rec for k, rec in json.loads(cli.stdout)["metrics"].items() if rec["family"] == FAMILY}
    assert expected
    assert set(shown) == set(expected)
    for name, rec in expected.items():
        if rec["value"] is None:
            assert shown[name] is None, name
        else:  # the notebook prints 4 decimals, the JSON 12 significant digits
            assert shown[name] == pytest.approx(rec["value"], rel=0, abs=5e-5 + 1e-9), name
