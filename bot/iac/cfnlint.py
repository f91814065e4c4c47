"""The optional deep tier: cfn-lint on changed CloudFormation templates (`pip install mfbot[cfn]`).

cfn-lint costs ~0.4 s per template and 4 s to load its rules, so it stays out of the engine (not a
registered rule): the App's worker calls `lint_templates` for the templates a pull request changed and
adds the results to the check run. One Runner is loaded per process; results are cached by the git
blob SHA of the template text, and a time budget stops the work (templates left over are skipped).
Only the rules that catch deploy blockers and dated deprecations are kept.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from bot.findings import Finding, Level
from bot.iac.files import final_files

if TYPE_CHECKING:
    from bot.config import Config
    from bot.task import Task

RULE_ID = "MF490"
KIND = "CFN_LINT"
# E-level rules plus deprecations (runtimes W2531, RDS engines W3690/W3691), hard-coded AZs (W3010),
# password properties (W2501), dynamic references (W1011), SSM parameter names (W3701).
KEEP = re.compile(r"E\d{4}|W(2531|3690|3691|3010|2501|1011|3701)")
_LEVELS = {"E": Level.ERROR, "W": Level.WARNING, "I": Level.NOTICE}
_CACHE_SIZE = 512

_lock = threading.Lock()
_runner = None
_cache: "OrderedDict[str, list[tuple[str, int, str]]]" = OrderedDict()


def available() -> bool:
    try:
        import cfnlint  # noqa: F401
    except ImportError:
        return False
    return True


def blob_sha(text: str) -> str:
    """The git blob SHA of a file's text: the same key GitHub gives the file."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _get_runner():
    global _runner
    if _runner is None:
        from cfnlint.api import ConfigMixIn
        from cfnlint.runner import Runner
        _runner = Runner(ConfigMixIn(regions=["us-east-1"]))
    return _runner


def _lint(text: str) -> list[tuple[str, int, str]]:
    """(rule id, line, message) of the kept cfn-lint matches of one template."""
    from cfnlint.decode.decode import decode_str
    template, errors = decode_str(text)
    matches = errors if template is None else list(_get_runner().validate_template(template))
    return [(m.rule.id, m.linenumber, m.message) for m in matches if KEEP.fullmatch(m.rule.id)]


DEFAULT_BUDGET_S = 10.0  # `settings.iac.cfn_lint_budget_s` in .github/mfbot.yml; 0 turns the tier off


def review_findings(tasks: "list[Task]", config: "Config") -> list[Finding]:
    """The worker's deep tier: cfn-lint on the templates each task changed, all tasks sharing one
    time budget (`settings.iac.cfn_lint_budget_s`); [] when cfn-lint is missing or MF490 is off."""
    budget = float(config.setting("iac", "cfn_lint_budget_s", DEFAULT_BUDGET_S))
    if budget <= 0 or {RULE_ID, KIND} & config.off or not available():
        return []
    deadline = time.monotonic() + budget
    out: list[Finding] = []
    for task in tasks:
        changed = [path for path, lines in (task.changed or {}).items() if lines]
        if changed:
            out += lint_templates(task, changed, deadline - time.monotonic())
    return out


def lint_templates(task: "Task", changed_paths, budget_s: float = 10.0) -> list[Finding]:
    """cfn-lint findings for the changed CloudFormation templates of a task (paths relative to the
    task); [] when cfn-lint is not installed. Stops starting new templates once `budget_s` is spent."""
    if not available():
        return []
    wanted = set(changed_paths)
    deadline = time.monotonic() + budget_s
    out: list[Finding] = []
    for f in final_files(task):
        if f.path not in wanted or f.platform != "cfn":
            continue
        key = blob_sha(f.text)
        with _lock:
            cached = _cache.get(key)
            if cached is None:
                if time.monotonic() > deadline:
                    break
                cached = _lint(f.text)
                _cache[key] = cached
                while len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
            else:
                _cache.move_to_end(key)
        for rule_id, line, message in cached:
            out.append(Finding(RULE_ID, KIND, _LEVELS.get(rule_id[0], Level.WARNING), task.display(f.path),
                               max(1, line), f"cfn-lint {rule_id}: {message}", evidence=f.line_text(line)[:200]))
    return out
