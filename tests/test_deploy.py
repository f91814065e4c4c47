"""The deployment files agree with the code: commands exist, ports and variable names match, the
Dockerfile is slim, pinned and unprivileged, and the GitHub Action and pre-commit hook run real
commands. Nothing is built here (no container runtime); these tests read the files."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser, main
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
# Variables the interpreter or the OS reads, not mfbot.
PLATFORM_ENV = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "HOME"}


def code_env_names() -> set[str]:
    """Every environment variable the bot's code reads."""
    pattern = re.compile(r"""(?:environ|env)(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']|_int\(env,\s*["']([A-Z][A-Z0-9_]+)["']""")
    names = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for m in pattern.finditer(path.read_text(encoding="utf-8")):
            names.add(m.group(1) or m.group(2))
    return names


ENV_NAMES = code_env_names()
DEFAULT_PORT = Settings(app_id=0).port


def test_the_env_scan_sees_the_settings():
    assert {"GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET",
            "GITHUB_API_URL", "MFBOT_QUEUE", "PORT", "LOG_LEVEL", "PROMETHEUS_MULTIPROC_DIR"} <= ENV_NAMES


# -- commands -----------------------------------------------------------------------------------

def check_command(argv: list[str]) -> str:
    """Assert a process command is a real `mfbot` sub-command or gunicorn serving the real app
    factory; returns "mfbot <sub>" or "gunicorn" for further checks."""
    if argv[:2] == ["sh", "-c"]:
        assert argv[2].startswith("exec "), "sh -c must exec the server so it receives signals"
        return check_command(shlex.split(argv[2].removeprefix("exec ")))
    if argv[0] == "mfbot":
        args = build_parser().parse_args(argv[1:])  # SystemExit on an unknown sub-command or option
        assert getattr(args, "func", None), argv
        return f"mfbot {argv[1]}"
    assert argv[0] == "gunicorn", argv
    target = argv[-1]
    m = re.fullmatch(r"([\w.]+):(\w+)(\(\))?", target)
    assert m, f"gunicorn target {target!r} is not module:callable"
    factory = getattr(importlib.import_module(m.group(1)), m.group(2))
    assert callable(factory)
    if m.group(3):  # called with no arguments: every parameter needs a default
        assert all(p.default is not p.empty for p in inspect.signature(factory).parameters.values())
    bind = argv[argv.index("--bind") + 1] if "--bind" in argv else ""
    assert re.fullmatch(r"0\.0\.0\.0:(\$\{?PORT(:-\d+)?\}?|\d+)", bind), f"gunicorn must bind 0.0.0.0:PORT, not {bind!r}"
    if bind.split(":")[1].isdigit():
        assert int(bind.split(":")[1]) == DEFAULT_PORT
    return "gunicorn"


def test_procfile_runs_gunicorn_and_a_worker():
    procs = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert check_command(shlex.split(procs["web"])) == "gunicorn"
    assert check_command(shlex.split(procs["worker"])) == "mfbot worker"


@pytest.mark.parametrize("argv", [["mfbot", "serv"], ["gunicorn", "--bind", "0.0.0.0:3000", "bot.app:make_app()"],
                                  ["gunicorn", "--bind", "127.0.0.1:3000", "bot.app:create_app()"]])
def test_check_command_rejects_what_would_not_start(argv):
    with pytest.raises((AssertionError, SystemExit, AttributeError)):
        check_command(argv)


# -- Dockerfile -----------------------------------------------------------------------------------

def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for instr in dockerfile():
        if instr[0] == "FROM":
            out.append([])
        if out:
            out[-1].append(instr)
    return out


def exec_form(args: str) -> list[str]:
    import json
    return json.loads(args)


def test_base_image_is_pinned_slim_python():
    args = {k: v for k, _, v in (a.partition("=") for i, a in dockerfile() if i == "ARG")}
    for _, arg in [i for i in dockerfile() if i[0] == "FROM"]:
        image = arg.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        name, _, tag = image.partition(":")
        assert name == "python" and tag and tag != "latest", image
        assert "slim" in tag and tag.startswith("3.11"), image


def test_multi_stage_with_no_build_tools_in_the_final_image():
    build, final = stages()[0], stages()[-1]
    assert len(stages()) >= 2
    assert any("build-essential" in a for i, a in build if i == "RUN")
    final_runs = " ".join(a for i, a in final if i == "RUN")
    assert not re.search(r"build-essential|gcc|apt-get install|pip install", final_runs)
    assert any(i == "COPY" and a.startswith("--from=build") for i, a in final)


def test_final_image_runs_as_an_unprivileged_user():
    users = [a for i, a in stages()[-1] if i == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")


def test_healthcheck_hits_healthz_on_port():
    (check,) = [a for i, a in dockerfile() if i == "HEALTHCHECK"]
    assert "/healthz" in check and "PORT" in check
    # the check runs with the image's own python (slim images have no curl)
    assert exec_form(check[check.index("CMD") + 3:].strip())[0] == "python"


def test_port_env_and_command_match_the_code():
    env = {}
    for i, a in stages()[-1]:
        if i == "ENV":
            env.update(dict(kv.split("=", 1) for kv in shlex.split(a)))
    assert set(env) - PLATFORM_ENV <= ENV_NAMES, set(env) - PLATFORM_ENV - ENV_NAMES
    assert int(env["PORT"]) == DEFAULT_PORT
    assert [a for i, a in dockerfile() if i == "EXPOSE"] == [str(DEFAULT_PORT)]
    settings = Settings.from_env({"MFBOT_QUEUE": env["MFBOT_QUEUE"]})
    assert settings.queue_url == "sqlite:////var/lib/mfbot/mfbot-queue.db"  # absolute, in the VOLUME
    (cmd,) = [a for i, a in dockerfile() if i == "CMD"]
    assert check_command(exec_form(cmd)) == "gunicorn"


def test_copied_sources_exist():
    for i, a in stages()[0]:
        if i == "COPY" and not a.startswith("--from"):
            for src in a.split()[:-1]:
                assert (ROOT / src).exists(), src


# -- compose ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    # `$$` is compose's escape for a literal `$` (left for the container's shell)
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text().replace("$$", "$"))


def test_compose_runs_web_two_workers_and_redis(compose):
    services = compose["services"]
    assert set(services) == {"web", "worker", "redis"}
    assert check_command(services["web"]["command"]) == "gunicorn"
    assert check_command(services["worker"]["command"]) == "mfbot worker"
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["redis"]["image"].split(":")[1] not in ("", "latest")
    assert "--appendonly" in services["redis"]["command"]


def test_compose_environment_matches_the_code(compose):
    for name in ("web", "worker"):
        env = compose["services"][name]["environment"]
        assert set(env) <= ENV_NAMES, set(env) - ENV_NAMES
        assert env["MFBOT_QUEUE"] == "redis://redis:6379/0"
        assert Settings.from_env({"MFBOT_QUEUE": env["MFBOT_QUEUE"]}).queue_url == "redis://redis:6379/0"
        assert env["GITHUB_PRIVATE_KEY_PATH"] == "/run/secrets/" + compose["services"][name]["secrets"][0]
    assert compose["services"]["web"]["ports"] == [f"{DEFAULT_PORT}:{DEFAULT_PORT}"]
    assert compose["services"]["web"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / compose["services"]["web"]["build"]["context"] / "deploy" / "Dockerfile").is_file()
    example = dict(line.split("=", 1) for line in (DEPLOY / "env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert set(example) <= ENV_NAMES


# -- Kubernetes --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def k8s() -> dict[tuple[str, str], dict]:
    docs = [d for d in yaml.safe_load_all((DEPLOY / "k8s.yaml").read_text()) if d]
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def containers(deployment: dict) -> list[dict]:
    return deployment["spec"]["template"]["spec"]["containers"]


def test_k8s_has_web_worker_service_and_probes(k8s):
    web, worker = k8s[("Deployment", "mfbot-web")], k8s[("Deployment", "mfbot-worker")]
    service = k8s[("Service", "mfbot-web")]
    (web_c,), (worker_c,) = containers(web), containers(worker)
    assert check_command(web_c["command"]) == "gunicorn"
    assert check_command(worker_c["command"]) == "mfbot worker"
    ports = {p["name"]: p["containerPort"] for p in web_c["ports"]}
    assert ports["http"] == DEFAULT_PORT
    bind = web_c["command"][web_c["command"].index("--bind") + 1]
    assert bind == f"0.0.0.0:{ports['http']}"
    for probe in ("readinessProbe", "livenessProbe"):
        assert web_c[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["selector"] == web["spec"]["template"]["metadata"]["labels"]
    for d in (web, worker):
        assert d["spec"]["selector"]["matchLabels"] == d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_k8s_env_and_secret_refs_match_the_code(k8s):
    redis = k8s[("Service", "mfbot-redis")]
    for name in ("mfbot-web", "mfbot-worker"):
        d = k8s[("Deployment", name)]
        (c,) = containers(d)
        env = {e["name"]: e for e in c["env"]}
        assert set(env) <= ENV_NAMES, set(env) - ENV_NAMES
        refs = [e["valueFrom"]["secretKeyRef"] for e in env.values() if "valueFrom" in e]
        assert refs and all(r["name"] == "mfbot" for r in refs)
        queue = env["MFBOT_QUEUE"]["value"]
        assert queue == f"redis://{redis['metadata']['name']}:{redis['spec']['ports'][0]['port']}/0"
        # the key file is a mounted item of the same Secret
        key_path = Path(env["GITHUB_PRIVATE_KEY_PATH"]["value"])
        volumes = {v["name"]: v for v in d["spec"]["template"]["spec"]["volumes"]}
        (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == str(key_path.parent)]
        secret = volumes[mount["name"]]["secret"]
        assert secret["secretName"] == "mfbot"
        assert [i["path"] for i in secret["items"]] == [key_path.name]
        assert c["image"] == containers(k8s[("Deployment", "mfbot-web")])[0]["image"]
    assert "GITHUB_WEBHOOK_SECRET" in {e["name"] for e in containers(k8s[("Deployment", "mfbot-web")])[0]["env"]}


# -- GitHub Action and pre-commit -------------------------------------------------------------------

@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def test_action_is_composite_and_runs_mfbot_review_with_the_github_format(action):
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    script = steps[-1]["run"]
    assert "args=(--format github)" in script and 'mfbot" review "${args[@]}"' in script
    used = set(re.findall(r"inputs\.([\w-]+)", yaml.safe_dump(action["runs"])))
    assert used == set(action["inputs"])
    # inputs reach shell scripts through env only (no `${{ inputs.x }}` inside a script)
    assert all("${{" not in step.get("run", "") for step in steps)


def run_action_step(action: dict, repo: Path, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    runner = tmp_path / "runner"
    if not runner.exists():
        (runner / "mfbot" / "bin").mkdir(parents=True)
        (runner / "mfbot" / "bin" / "mfbot").symlink_to(Path(sys.executable).parent / "mfbot")
    script = action["runs"]["steps"][-1]["run"]
    full_env = {**os.environ, "RUNNER_TEMP": str(runner), "MFBOT_PATHS": "", "MFBOT_FAIL_ON": "",
                "MFBOT_CONFIG": "", "BASE_SHA": "", **env}
    return subprocess.run(["bash", "-c", script], cwd=repo, env=full_env, capture_output=True, text=True, timeout=120)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")).stdout.strip()


GARBLED = "# Model Failures\n\n### 1. Bucket policy\n\nThe model\u00e2\u20ac\u2122s policy allowed `s3:*`.\n"


@pytest.mark.skipif(not shutil.which("git"), reason="git is not installed")
def test_action_annotates_the_changed_reports_with_repository_paths(action, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README.md").write_text("tasks\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "remote", "add", "origin", str(repo))
    task = repo / "tasks" / "Pr1234" / "lib"
    task.mkdir(parents=True)
    (task / "MODEL_FAILURES.md").write_text(GARBLED, encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "task")
    done = run_action_step(action, repo, tmp_path, {"BASE_SHA": base})
    assert done.returncode == 1, done.stderr
    assert "::error file=tasks/Pr1234/lib/MODEL_FAILURES.md,line=5,title=MF101" in done.stdout

    # no report changed: the step passes without reviewing
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing")
    head = git(repo, "rev-parse", "HEAD")
    quiet = run_action_step(action, repo, tmp_path, {"BASE_SHA": head})
    assert quiet.returncode == 0 and "changes no MODEL_FAILURES.md report" in quiet.stdout

    # explicit paths (and a push event without a base) review what they name
    direct = run_action_step(action, repo, tmp_path, {"MFBOT_PATHS": "tasks/Pr1234", "MFBOT_FAIL_ON": "never"})
    assert direct.returncode == 0 and "title=MF101" in direct.stdout


def test_pre_commit_hook_runs_mfbot_review_on_reports():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "mfbot" and hook["language"] == "python"
    argv = shlex.split(hook["entry"])
    assert check_command(argv + ["lib/MODEL_FAILURES.md"]) == "mfbot review"
    files = re.compile(hook["files"])
    assert files.search("lib/MODEL_FAILURES.md") and files.search("MODEL_FAILURES.md")
    assert files.search("tasks/a/lib/MODEL_FAILURES.md")
    assert not files.search("lib/MODEL_RESPONSE.md") and not files.search("lib/MODEL_FAILURES.md.bak")


def test_review_takes_several_paths_as_pre_commit_passes_them(tmp_path, capsys):
    # Two tasks, each with its own report; one is clean, one has mojibake.
    for name, text in (("a", GARBLED), ("b", "# Model Failures\n\n### 1. Bucket policy\n\nFine.\n")):
        (tmp_path / name / "lib").mkdir(parents=True)
        (tmp_path / name / "lib" / "MODEL_FAILURES.md").write_text(text, encoding="utf-8")
    (tmp_path / ".git").mkdir()  # the repository root: config search stops here
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "mfbot.yml").write_text("rules:\n  MF101: warning\n")
    a, b = (str(tmp_path / n / "lib" / "MODEL_FAILURES.md") for n in "ab")
    main(["review", "--format", "json", a, b])
    import json
    out = json.loads(capsys.readouterr().out)
    assert len(out["tasks"]) == 2
    mf101 = [f for f in out["findings"] if f["rule"] == "MF101"]
    assert len(mf101) == 1 and mf101[0]["level"] == "warning"  # the repository's .github/mfbot.yml applied
    assert main(["review", a, str(tmp_path / "missing.md")]) == 2


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_image_command_serves_health_and_adds_up_metrics_of_its_workers(tmp_path):
    """Run the Dockerfile's CMD as the image would (two gunicorn workers, multiprocess metrics)."""
    import time
    import urllib.error
    import urllib.request

    (cmd,) = [a for i, a in dockerfile() if i == "CMD"]
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOME": str(tmp_path), "MFBOT_QUEUE": f"sqlite:///{tmp_path}/q.db",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "GITHUB_APP_ID": "1",
           "GITHUB_WEBHOOK_SECRET": "s3cret", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.Popen(exec_form(cmd), cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while True:
            try:
                health = urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "gunicorn did not come up"
                time.sleep(0.2)
        assert health.status == 200
        for _ in range(6):  # unsigned deliveries, spread over both workers
            request = urllib.request.Request(f"{base}/webhook", data=b"{}", method="POST",
                                             headers={"X-GitHub-Event": "pull_request"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert refused.value.code == 401
        metrics = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
    finally:
        proc.terminate()
        proc.wait(10)
    assert "mfbot_webhook_signature_failures_total 6.0" in metrics
