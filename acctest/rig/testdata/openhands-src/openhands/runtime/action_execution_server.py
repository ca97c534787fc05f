"""Fixture version of openhands.runtime.action_execution_server (packer-plugin-openhands tests).

Upstream's command line, plugin start-up and GET /alive, on the standard library. Before the
arguments are parsed it imports what the real server imports at the top and the fixture's
dependencies provide, so even `--help` fails in an environment missing them. Plugins start as
upstream's do: vscode and jupyter run as the agent's user through `su - USER` (SU_TO_USER).
"""

import argparse
import json
import os
import pwd
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import fastapi  # noqa: F401
import litellm  # noqa: F401
import openai  # noqa: F401
import openhands_aci  # noqa: F401
import pydantic  # noqa: F401
import starlette  # noqa: F401
import uvicorn  # noqa: F401

from openhands.core.config import OpenHandsConfig  # noqa: F401

ALL_PLUGINS = ("agent_skills", "jupyter", "vscode")
VSCODE_ROOT = "/openhands/.openvscode-server"
VSCODE_SETTINGS = '{\n  "workbench.startupEditor": "none"\n}\n'
STARTUP_TIMEOUT = 60


class StartupError(Exception):
    pass


def log(level, msg):
    print("%s: %s" % (level, msg), file=sys.stderr, flush=True)


def env_flag(name, default):
    return os.getenv(name, default).lower() in ("1", "true", "t", "yes", "y", "on")


def as_user(username, script):
    """A shell command running script with bash as username, in upstream's shape."""
    prefix = "su - %s -s " % username if env_flag("SU_TO_USER", "true") else ""
    return "%s/bin/bash << 'EOF'\n%sEOF" % (prefix, script)


def init_working_dir(work_dir, username, user_id):
    # Upstream's init_user_and_working_directory, short of creating the user.
    if not work_dir:
        return
    old = os.umask(0o002)
    try:
        os.makedirs(work_dir, exist_ok=True)
    except OSError as e:
        raise StartupError("cannot create the working directory %s: %s" % (work_dir, e))
    finally:
        os.umask(old)
    if os.geteuid() != 0:
        return
    try:
        uid = pwd.getpwnam(username).pw_uid
    except KeyError:
        log("WARNING", "user %s does not exist; %s stays root's" % (username, work_dir))
        return
    if uid != user_id:
        log("WARNING", "User `%s` already has UID %d, not %d." % (username, uid, user_id))
    os.chown(work_dir, uid, 0)
    os.chmod(work_dir, os.stat(work_dir).st_mode | 0o060)


def port_available(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def wait_for_line(proc, marker, what):
    """Forwards proc's output until a line holds marker; fails on exit or after the timeout.
    The output keeps being drained afterwards so the process never blocks on a full pipe."""
    lines = queue.Queue()

    def pump():
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            print(line, end="", flush=True)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    seen = []
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            raise StartupError("%s did not print %r within %ds" % (what, marker, STARTUP_TIMEOUT))
        if line is None:
            raise StartupError("%s exited (code %s) before printing %r; output:\n%s"
                               % (what, proc.wait(), marker, "".join(seen)))
        seen.append(line)
        if marker in line:
            return


def start_vscode(username):
    if username not in filter(None, [os.getenv("RUNTIME_USERNAME"), "root", "openhands"]):
        log("WARNING", "VSCodePlugin is only supported for root or openhands user.")
        return None
    settings = os.path.join(os.getenv("WORKSPACE_BASE", "/workspace"), ".vscode")
    os.makedirs(settings, exist_ok=True)
    with open(os.path.join(settings, "settings.json"), "w") as f:
        f.write(VSCODE_SETTINGS)
    os.chmod(os.path.join(settings, "settings.json"), 0o666)
    try:
        port = int(os.environ["VSCODE_PORT"])
    except (KeyError, ValueError):
        log("WARNING", "VSCODE_PORT environment variable not set or invalid. "
                       "VSCode plugin will be disabled.")
        return None
    if not port_available(port):
        log("WARNING", "Port %d is not available. VSCode plugin will be disabled." % port)
        return None
    base_flag = ""
    explicit = os.getenv("OPENVSCODE_SERVER_BASE_PATH")
    runtime_id, runtime_url = os.getenv("RUNTIME_ID"), os.getenv("RUNTIME_URL", "")
    if explicit:
        base_flag = " --server-base-path /" + explicit.strip("/")
    elif runtime_id and runtime_url and (urlparse(runtime_url).path or "/").startswith("/" + runtime_id):
        base_flag = " --server-base-path /%s/vscode" % runtime_id
    workspace = os.getenv("WORKSPACE_MOUNT_PATH_IN_SANDBOX", "/workspace")
    cmd = as_user(username,
                  "sudo chown -R %s:%s %s\n" % (username, username, VSCODE_ROOT)
                  + "cd %s\n" % workspace
                  + "exec %s/bin/openvscode-server --host 0.0.0.0 --connection-token %s "
                    "--port %d --disable-workspace-trust%s\n"
                  % (VSCODE_ROOT, uuid.uuid4(), port, base_flag))
    proc = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_line(proc, "Web UI available at", "the VSCode server")
    log("INFO", "VSCode server started at port %d" % port)
    return proc


def check_jupyter(username):
    # Upstream starts the kernel gateway with the server's interpreter, as the user, through
    # micromamba (or from OPENHANDS_REPO_PATH in LocalRuntime mode); importing it stands in.
    check = '"%s" -c \'import kernel_gateway\'\n' % sys.executable
    if os.environ.get("LOCAL_RUNTIME_MODE") == "1":
        repo = os.environ.get("OPENHANDS_REPO_PATH")
        if not repo:
            raise StartupError("OPENHANDS_REPO_PATH environment variable is not set. This is "
                               "required for the jupyter plugin to work with LocalRuntime.")
        cmd = "/bin/bash << 'EOF'\ncd %s\n%sEOF" % (repo, check)
    else:
        cmd = as_user(username,
                      "cd /openhands/code\n"
                      "export POETRY_VIRTUALENVS_PATH=/openhands/poetry;\n"
                      "export PYTHONPATH=/openhands/code:$PYTHONPATH;\n"
                      "export MAMBA_ROOT_PREFIX=/openhands/micromamba;\n"
                      "/openhands/micromamba/bin/micromamba run -n openhands " + check)
    try:
        out = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=STARTUP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise StartupError("jupyter plugin: the kernel gateway check timed out")
    if out.returncode != 0:
        raise StartupError("jupyter plugin: the kernel gateway cannot start as %s (exit %d):\n%s"
                           % (username, out.returncode, out.stdout.decode("utf-8", "replace")))
    log("INFO", "Jupyter kernel gateway importable as %s" % username)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?", 1)[0] == "/alive":
            code, body = 200, {"status": "ok"}
        else:
            code, body = 404, {"detail": "Not Found"}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int, help="Port to listen on")
    parser.add_argument("--working-dir", type=str, help="Working directory")
    parser.add_argument("--plugins", type=str, help="Plugins to initialize", nargs="+")
    parser.add_argument("--username", type=str, help="User to run as", default="openhands")
    parser.add_argument("--user-id", type=int, help="User ID to run as", default=1000)
    parser.add_argument("--enable-browser", action=argparse.BooleanOptionalAction, default=True,
                        help="Enable the browser environment")
    parser.add_argument("--browsergym-eval-env", type=str, default=None,
                        help="BrowserGym environment used for browser evaluation")
    args = parser.parse_args()

    plugins = args.plugins or []
    for name in plugins:
        if name not in ALL_PLUGINS:
            raise StartupError("Plugin %s not found" % name)
    if args.browsergym_eval_env and not args.enable_browser:
        raise StartupError("Browser environment is not enabled in config, but "
                           "browsergym_eval_env is set")
    init_working_dir(args.working_dir, args.username, args.user_id)
    for name in plugins:
        if name == "vscode":
            start_vscode(args.username)
        elif name == "jupyter":
            check_jupyter(args.username)
    try:
        httpd = ThreadingHTTPServer(("0.0.0.0", args.port), Handler)
    except OSError as e:
        raise StartupError("[Errno %d] error while attempting to bind on address "
                           "('0.0.0.0', %d): %s" % (e.errno, args.port, e.strerror))
    httpd.daemon_threads = True
    log("INFO", "Uvicorn running on http://0.0.0.0:%d (Press CTRL+C to quit)" % args.port)
    httpd.serve_forever()


if __name__ == "__main__":
    log("WARNING", "Starting Action Execution Server")
    try:
        main()
    except StartupError as e:
        log("ERROR", e)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
