"""IaC rules for the repository's conventions and deploy blockers (MF409-MF416): a single NAT where
the prompt asks for high availability, alarms without treatMissingData, physical names without the
environment suffix, deprecated resources and runtimes, duplicate Step Functions states, dashboard
metric arrays CloudWatch rejects, reserved SSM document names and placeholder tests (including tests
that assert nothing).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from functools import lru_cache

from bot.findings import Level
from bot.iac import langs
from bot.iac.files import MODEL_RESPONSE, SourceFile, final_files, test_files
from bot.iac.rule import Context, Hit, IacRule, unconditional
from bot.iac.values import ALT, ARR, BOOL, CALL, NUM, OBJ, REF, SPREAD, STR, TPL, V, norm
from bot.iac.views import flavor, owner, resources
from bot.rules import register


def _where(f: SourceFile, node: V) -> str:
    own = owner(f, node)
    return f"`{own}`" if own else "this code"


# --------------------------------------------------------------------------- MF409


@register
class SingleNat(IacRule):
    id = "MF409"
    name = "single-nat-gateway"
    kind = "IAC_SINGLE_NAT"
    level = Level.WARNING
    summary = "One NAT gateway serves several availability zones although the prompt asks for high availability."
    why = ("With one NAT gateway, every private subnet loses internet access when its zone fails. Many prompts "
           "ask for a cheap single NAT, so the rule only reports when PROMPT.md asks for high availability or a "
           "NAT gateway per zone and does not ask for one NAT.")
    bad = {"lib/PROMPT.md": "Build a highly available VPC across 3 AZs.\n",
           "lib/tap-stack.ts": "const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 3, natGateways: 1 });\n"}
    good = {"lib/PROMPT.md": "Build a VPC across 3 AZs with a single NAT gateway to save cost.\n",
            "lib/tap-stack.ts": "const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 3, natGateways: 1 });\n"}
    trigger = ("atGateway", "at_gateway", "NatGateway")

    _HA = re.compile(r"high(ly)?[- ]availab|NAT gateways? (in|per|for) (each|every)|(one|a) NAT gateway (in|per) "
                     r"(each|every)|fault[- ]toleran|no single point of failure", re.I)
    _ONE = re.compile(r"(single|one|1) (shared )?NAT|NAT gateways?\W[^.\n]{0,40}\b(single|one|1) gateway|"
                      r"NAT gateway in (one|a single) |NAT gateway count of 1|cost[- ](optimi[sz]|effective|saving|aware)", re.I)

    def allowed(self, hit, ctx):
        return bool(self._HA.search(ctx.prompt)) and not self._ONE.search(ctx.prompt)

    def detect(self, files, ctx):
        files = [f for f in files if self.triggered(f)]
        templates = [f for f in files if f.lang in ("yaml", "json", "hcl")]  # the other languages are code
        for f in files:
            if f.platform == "source" and _may_set_nat_count(f.text) and f.root is not None:
                yield from self._source(f)
        yield from self._templates(templates)

    def _source(self, f: SourceFile):
        for node, key in f.nodes:
            if norm(key) == "natgateways" and unconditional(node):
                if node.kind == NUM and node.text == "1":
                    azs = next((v for k, v in _siblings(f, node) if norm(k) == "maxazs"), None)
                    if azs is None or (azs.kind == NUM and azs.text.isdigit() and int(azs.text) > 1):
                        yield self.hit(f, node, f"{_where(f, node)}: `{key}: 1` gives every zone's private subnets "
                                       "one NAT gateway: use one per zone (`natGateways` = `maxAzs`).", "one")
            if node.kind == REF and re.search(r"NatGatewayStrategy\.Single\b", node.text) and unconditional(node):
                yield self.hit(f, node, f"{_where(f, node)}: `NatGatewayStrategy.Single` puts one NAT gateway in front "
                               "of every zone: use `OnePerAz`.", "one")

    def _templates(self, files: list[SourceFile]):
        """One NAT gateway resource in all the templates: only then are their private subnets counted (so a
        file that cannot hold a NAT gateway resource is parsed only then)."""
        nats = [(f, r) for f in files if _may_hold_nat(f.text) and f.platform in ("cfn", "tf") and f.root is not None
                for r in resources(f) if r.type.lower() in _NAT_TYPES]
        if len(nats) != 1 or nats[0][1].node.get("count", "for_each") is not None:
            return
        private = 0
        for f in files:
            if f.platform in ("cfn", "tf") and f.root is not None:
                for r in resources(f):
                    if r.type.lower() in ("aws::ec2::subnet", "aws_subnet") and "private" in (r.name + r.type).lower():
                        private += 2 if r.node.get("count", "for_each") is not None else 1
        if private >= 2:
            f, r = nats[0]
            yield self.hit(f, r.node, f"`{r.type} {r.name}` is the only NAT gateway for {private}+ private subnets: "
                           "add one per availability zone.", "one")


_NAT_TYPES = ("aws::ec2::natgateway", "aws_nat_gateway")  # compared in lower case


def _may_hold_nat(text: str) -> bool:
    """Whether the text may hold a NAT gateway resource, its type compared as `_templates` compares it."""
    low = text.lower()
    return any(t in low for t in _NAT_TYPES)


def _may_set_nat_count(text: str) -> bool:
    """What `SingleNat._source` reads: a `natGateways`/`nat_gateways`/`NatGateways`/`NAT_GATEWAYS` key or
    the `NatGatewayStrategy.Single` constant (a file that only names NAT gateways is not parsed for it)."""
    return "ateways" in text or "ATEWAYS" in text or "NatGatewayStrategy.Single" in text


def _siblings(f: SourceFile, node: V) -> list[tuple[str, V]]:
    for n, _ in f.nodes:
        if n.kind == OBJ and any(v is node for _, v in n.items):
            return n.items
    return []


# --------------------------------------------------------------------------- MF410

_ALARM_TYPES = ("aws::cloudwatch::alarm", "aws_cloudwatch_metric_alarm")
_ALARM_CALLS = (".Alarm", "cloudwatch.Alarm", "MetricAlarm", "CloudwatchMetricAlarm", ".createAlarm", ".create_alarm")


@register
class AlarmMissingData(IacRule):
    id = "MF410"
    name = "alarm-missing-data"
    kind = "IAC_ALARM_MISSING_DATA"
    level = Level.NOTICE
    summary = "A CloudWatch alarm does not say how to treat missing data."
    why = ("The default, `missing`, keeps an alarm in INSUFFICIENT_DATA when its metric stops, which hides "
           "outages for error and heartbeat alarms. Many alarms are fine with the default, hence a notice.")
    bad = {"lib/main.tf": ('resource "aws_cloudwatch_metric_alarm" "errors" {\n  alarm_name = "errors"\n'
                           '  metric_name = "Errors"\n  threshold = 1\n}\n')}
    good = {"lib/main.tf": ('resource "aws_cloudwatch_metric_alarm" "errors" {\n  alarm_name = "errors"\n'
                            '  metric_name = "Errors"\n  threshold = 1\n  treat_missing_data = "notBreaching"\n}\n')}
    trigger = ("Alarm(", "AWS::CloudWatch::Alarm", "aws_cloudwatch_metric_alarm", "createAlarm", "create_alarm")

    def detect_file(self, f, ctx):
        for r in resources(f):
            is_alarm = r.type.lower() in _ALARM_TYPES if r.platform != "source" else r.type.endswith(_ALARM_CALLS)
            if not is_alarm or r.props is None or r.props.flags & SPREAD:
                continue
            if r.props.get("treatMissingData", "TreatMissingData") is None and (
                    r.props.items or r.platform != "source"):
                name = f"{r.type} {r.name}".strip() if r.platform != "tf" else f"{r.type}.{r.name}"
                fix = {"cfn": "TreatMissingData: notBreaching", "tf": 'treat_missing_data = "notBreaching"'}.get(
                    r.platform, "treatMissingData: TreatMissingData.NOT_BREACHING")
                yield self.hit(f, r.node, f"`{name}` does not set how missing data is treated: add `{fix}` (or "
                               "`breaching` for heartbeat alarms).", "missing")


# --------------------------------------------------------------------------- MF411

_NAME_KEYS = {"bucketname", "functionname", "tablename", "rolename", "queuename", "topicname", "loggroupname",
              "clustername", "streamname", "statemachinename", "repositoryname", "secretname", "dbinstanceidentifier",
              "dbclusteridentifier", "managedpolicyname", "restapiname",
              "apiname", "deliverystreamname"}
_TF_NAMES = {"aws_s3_bucket": "bucket", "aws_lambda_function": "function_name", "aws_dynamodb_table": "name",
             "aws_iam_role": "name", "aws_sqs_queue": "name", "aws_sns_topic": "name", "aws_cloudwatch_log_group": "name",
             "aws_kinesis_stream": "name", "aws_ecs_cluster": "name", "aws_sfn_state_machine": "name",
             "aws_ecr_repository": "name", "aws_secretsmanager_secret": "name", "aws_db_instance": "identifier",
             "aws_rds_cluster": "cluster_identifier", "aws_kms_alias": "name", "aws_lb": "name", "aws_iam_policy": "name"}
_SUFFIX = re.compile(r"environment_?[sS]uffix|EnvironmentSuffix|env_?[sS]uffix|ENVIRONMENT_SUFFIX")
_NAME_WORDS = tuple(sorted(_NAME_KEYS | {"aliasname"}))


def _uses_suffix(task) -> bool:
    """Whether any final source uses an environment suffix (cached per task: claims ask per snippet)."""
    cache = task.__dict__.setdefault("_iac_cache", {})
    if "uses_suffix" not in cache:
        cache["uses_suffix"] = any(("uffix" in f.text or "UFFIX" in f.text) and _SUFFIX.search(f.text)
                                   for f in final_files(task))  # a substring test first: 5 times faster
    return cache["uses_suffix"]


_LABEL_END = ('"', "{", " ", "\t", "\n")  # after a block label: its quote, or what follows an unquoted one
# What follows a key where the converters read one: `:` in an object, dict, YAML or JSON mapping; `=` after
# a Python keyword argument; `(`/`<` after the name of a method in a JS/TS object literal (`bucketName() {}`).
_KEY_END = {"python": (":", "="), "typescript": (":", "(", "<"), "tsx": (":", "(", "<"), "javascript": (":", "(", "<")}


def _may_name(f: SourceFile) -> bool:
    """The file may give a name key a fixed string, by its text; other files are not parsed for MF411.
    Terraform: a `_TF_NAMES` type as a block label (`"aws_s3_bucket"`, not `aws_s3_bucket_policy` or the
    reference `aws_s3_bucket.b`). Other languages: a name key (compared as `norm` compares keys: any case,
    no `_`, `-` or blanks) followed, after its closing quote, by what follows a key (`_KEY_END`): not a
    variable (`table_name = os.environ[...]`, `const bucketName = ...`)."""
    seen = f.__dict__.get("_may_name")  # cached per file: the claim checks ask again for the same files
    if seen is None:
        text = f.text
        if f.lang == "hcl":
            seen = any(text[i + len(t):i + len(t) + 1] in _LABEL_END for t in _TF_NAMES for i in _find_all(text, t))
        else:
            flat = "".join(text.lower().replace("_", "").replace("-", "").split())
            ends = _KEY_END.get(f.lang, (":",))  # YAML, JSON
            seen = any(flat[i + len(w):i + len(w) + 2].lstrip("\"'")[:1] in ends
                       for w in _NAME_WORDS for i in _find_all(flat, w))
        f.__dict__["_may_name"] = seen
    return seen


@register
class NameWithoutSuffix(IacRule):
    id = "MF411"
    name = "name-without-suffix"
    kind = "IAC_NAME_WITHOUT_SUFFIX"
    level = Level.WARNING
    summary = "An explicit physical resource name is a fixed string without the task's environment suffix."
    why = ("The repository deploys the same task for several pull requests at once; a fixed `bucketName` or "
           "`function_name` clashes between them. Tasks that use an environment suffix must put it in every "
           "explicit name (or let the service generate the name). Tasks that never use a suffix are not checked.")
    bad = {"lib/template.yaml": ("Parameters:\n  EnvironmentSuffix:\n    Type: String\nResources:\n  Bucket:\n"
                                 "    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: audit-logs\n")}
    good = {"lib/template.yaml": ("Parameters:\n  EnvironmentSuffix:\n    Type: String\nResources:\n  Bucket:\n"
                                  "    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub audit-logs-${EnvironmentSuffix}\n")}

    def detect(self, files, ctx):
        files = list(files)
        if not _uses_suffix(ctx.task):
            return
        for f in files:
            # the text filter spares a parse: a file another rule parsed already is searched by its key index
            if not f.convertible or not (f.parsed or _may_name(f)) or f.platform not in self.platforms \
                    or f.root is None:
                continue
            if f.platform == "tf":
                for r in resources(f):
                    attr = _TF_NAMES.get(r.type)
                    value = r.node.get(attr) if attr else None
                    if value is not None and value.kind == STR and unconditional(value):
                        yield self._hit(f, value, f"{r.type}.{r.name}", attr)
                continue
            nodes = f.nodes
            for i in f.positions(under=_NAME_WORDS):
                node, key = nodes[i]
                # inline policy names and Lambda alias names are scoped to their role/function: no clash
                global_name = norm(key) in _NAME_KEYS or node.text.startswith("alias/")
                if node.kind == STR and global_name and unconditional(node) and node.text:
                    yield self._hit(f, node, owner(f, node), key)

    def _hit(self, f: SourceFile, node: V, where: str, key: str) -> Hit:
        fix = {"cfn": "`!Sub name-${EnvironmentSuffix}`", "tf": '`"name-${var.environment_suffix}"`'}.get(
            f.platform, "a template string with `environmentSuffix`")
        return self.hit(f, node, f"{'`' + where + '` ' if where else ''}`{key}: {node.text}` is a fixed name "
                        f"without the environment suffix: use {fix}.", "name")


# --------------------------------------------------------------------------- MF412

_V2 = re.compile(r"\bs3\.(Bucket(?:Acl|Cors(?:Configuration)?|LifecycleConfiguration|Logging|ObjectLockConfiguration|"
                 r"RequestPaymentConfiguration|ServerSideEncryptionConfiguration|Versioning|WebsiteConfiguration|"
                 r"AccelerateConfiguration|Policy)?V2|BucketObjectv2)$")
_INLINE = {"versioning", "serversideencryptionconfiguration", "lifecyclerules", "website", "loggings", "logging",
           "corsrules", "objectlockconfiguration", "replicationconfiguration", "accelerationstatus"}
# Lambda runtime -> date AWS deprecated it (checked against cfn-lint 1.58 LmbdRuntimeLifecycle.json).
_RUNTIMES = {
    "nodejs": "2016-08-30", "nodejs4.3": "2020-03-05", "nodejs6.10": "2019-08-12", "nodejs8.10": "2020-03-06",
    "nodejs10.x": "2021-07-30", "nodejs12.x": "2023-03-31", "nodejs14.x": "2023-12-04", "nodejs16.x": "2024-06-12",
    "nodejs18.x": "2025-09-01", "nodejs20.x": "2026-04-30", "python2.7": "2021-07-15", "python3.6": "2022-07-18",
    "python3.7": "2023-12-04", "python3.8": "2024-10-14", "python3.9": "2025-12-15", "python3.10": "2026-10-31",
    "ruby2.5": "2021-07-30", "ruby2.7": "2023-12-07", "ruby3.2": "2026-03-31", "java8": "2024-01-08",
    "go1.x": "2024-01-08", "provided": "2024-01-08", "dotnetcore2.1": "2022-01-05", "dotnetcore3.1": "2023-04-03",
    "dotnet6": "2024-12-20", "dotnet7": "2024-05-14",
}
_CDK_CONSTANTS = r"(NODEJS_\d+_X|PYTHON_\d+_\d+|JAVA_8|GO_1_X|DOTNET_CORE_\d_\d|DOTNET_\d|RUBY_\d_\d|PROVIDED)"
_CDK_RUNTIME = re.compile(rf"Runtime[._]{_CDK_CONSTANTS}$")
_CDK_CONSTANT = re.compile(rf"{_CDK_CONSTANTS}(?!\w)")
# A runtime of `_RUNTIMES` as a whole string (`'nodejs12.x'`, YAML `nodejs12.x`: not `provided.al2`), found
# at an occurrence of its first word (a regex searching the whole text costs more than the parse it spares).
_RUNTIME_VALUE = re.compile(r"(?:%s)(?![\w.])" % "|".join(re.escape(r) for r in sorted(_RUNTIMES, key=len, reverse=True)))
_RUNTIME_WORDS = ("nodejs", "python", "ruby", "java8", "go1.x", "provided", "dotnet")  # each runtime starts with one


def _cdk_runtime_name(const: str) -> str:
    c = const.lower()
    if c.startswith("nodejs_"):
        return "nodejs" + c.split("_")[1] + ".x"
    if c.startswith("python_"):
        return "python" + ".".join(c.split("_")[1:])
    if c.startswith("ruby_"):
        return "ruby" + ".".join(c.split("_")[1:])
    if c.startswith("dotnet_core_"):
        return "dotnetcore" + ".".join(c.split("_")[2:])
    return {"java_8": "java8", "go_1_x": "go1.x", "provided": "provided"}.get(c, c.replace("_", ""))


def _runtimes_named(text: str) -> set[str]:
    """The runtimes of `_RUNTIMES` the text holds as a string value or as a CDK constant (`Runtime.NODEJS_12_X`,
    which `_CDK_RUNTIME` reads off a reference written without blanks)."""
    found = set()
    for word in _RUNTIME_WORDS:
        for i in _find_all(text, word):
            m = _RUNTIME_VALUE.match(text, i)
            if m and not (i and (text[i - 1].isalnum() or text[i - 1] in "_.")):
                found.add(m.group(0))
    for prefix in ("Runtime.", "Runtime_"):
        for i in _find_all(text, prefix):
            m = _CDK_CONSTANT.match(text, i + len(prefix))
            if m and _cdk_runtime_name(m.group(1)) in _RUNTIMES:
                found.add(_cdk_runtime_name(m.group(1)))
    return found


def _may_deprecate(f: SourceFile, today: str, major: int | None) -> bool:
    """What `DeprecatedResource.detect_file` can report, by the file's text: a runtime deprecated by
    `today`, or (Pulumi code, the task pinning pulumi-aws) an `s3.Bucket...` call: `BucketV2` and friends
    from v7 on (their names end in `V2`, `BucketObjectv2` in `v2`), `Bucket` with inline arguments up to v6."""
    runtimes = f.__dict__.get("_runtimes")  # cached per file: the claim checks ask again for the same files
    if runtimes is None:
        runtimes = f.__dict__["_runtimes"] = _runtimes_named(f.text)
    if any(_RUNTIMES[r] <= today for r in runtimes):
        return True
    text = f.text
    return bool(major) and "pulumi" in text and "Bucket" in text and (major <= 6 or "V2" in text or "v2" in text) \
        and f.platform == "source"


@register
class DeprecatedResource(IacRule):
    id = "MF412"
    name = "deprecated-resource"
    kind = "IAC_DEPRECATED_RESOURCE"
    level = Level.WARNING
    platforms = ("cfn", "tf", "source")
    summary = "A deprecated Lambda runtime (as of the task's start date), or a Pulumi S3 resource deprecated in the pinned pulumi-aws version."
    why = ("Reports give opposite advice on Pulumi's S3 resources: in pulumi-aws v6 the inline arguments of "
           "`aws.s3.Bucket` are deprecated in favour of `BucketV2` and its side resources; in v7 `BucketV2` and "
           "friends are deprecated and `aws.s3.Bucket` is the resource to use. mfbot answers by the version the "
           "task pins (package.json, requirements, go.mod) and stays silent when none is pinned. Lambda runtimes "
           "are judged by AWS's deprecation date against the task's `startedAt` (or today).")
    settings = {"iac.review_date": "ISO date the runtime deprecations are judged at (default: metadata.json "
                                   "startedAt, else today)"}
    bad = {"package.json": '{"dependencies": {"@pulumi/aws": "^7.2.0"}}\n',
           "lib/index.ts": "import * as aws from '@pulumi/aws';\nconst bucket = new aws.s3.BucketV2('data', {});\n"}
    good = {"package.json": '{"dependencies": {"@pulumi/aws": "^6.50.0"}}\n',
            "lib/index.ts": "import * as aws from '@pulumi/aws';\nconst bucket = new aws.s3.BucketV2('data', {});\n"}

    def detect(self, files, ctx):
        # instead of `trigger`: which runtimes count as deprecated depends on the task's date
        today, major = _review_date(ctx), ctx.pulumi_aws_major
        for f in files:
            if f.convertible and _may_deprecate(f, today, major) and f.platform in self.platforms and f.root is not None:
                yield from self.file_hits(f, ctx)

    def detect_file(self, f, ctx):
        today = _review_date(ctx)
        pulumi = flavor(f) == "pulumi"
        major = ctx.pulumi_aws_major if pulumi else None
        for node, key in f.nodes:
            if pulumi and major and node.kind == CALL:
                yield from self._pulumi(f, node, major)
            runtime = None
            if node.kind == STR and norm(key) == "runtime":
                runtime = node.text
            elif node.kind == REF and "Runtime" in node.text:
                m = _CDK_RUNTIME.search(node.text)
                runtime = _cdk_runtime_name(m.group(1)) if m else None
            date = _RUNTIMES.get(runtime or "")
            if date and date <= today and unconditional(node):
                yield self.hit(f, node, f"{_where(f, node)}: Lambda runtime `{runtime}` is deprecated since {date} "
                               f"(judged at {today}): use a supported runtime.", f"runtime:{runtime}")

    def _pulumi(self, f: SourceFile, call: V, major: int):
        name = call.name
        if major >= 7 and _V2.search(name):
            new = re.sub(r"V2$|v2$", "", name.rsplit(".", 1)[-1])
            yield self.hit(f, call, f"`{name}` is deprecated in pulumi-aws v{major} (the task pins v{major}): use "
                           f"`aws.s3.{new}`.", "BucketV2")
        elif major <= 6 and name.endswith("s3.Bucket"):
            props = next((a for a in call.items if a.kind == OBJ), None)
            inline = [k for k, _ in props.items if norm(k) in _INLINE] if props is not None else []
            if inline:
                yield self.hit(f, call, f"`{name}` with inline `{inline[0]}` is deprecated in pulumi-aws v{major} "
                               f"(the task pins v{major}): use `aws.s3.BucketV2` with its side resources "
                               "(`BucketVersioningV2`, ...).", "inline-bucket-args")


def _review_date(ctx: Context) -> str:
    configured = ctx.setting("review_date", None)
    if configured:
        return str(configured)[:10]
    started = (ctx.task.metadata or {}).get("startedAt")
    if isinstance(started, str) and re.match(r"\d{4}-\d\d-\d\d", started):
        return started[:10]
    return dt.date.today().isoformat()


# --------------------------------------------------------------------------- MF413


@register
class DuplicateState(IacRule):
    id = "MF413"
    name = "stepfunctions-duplicate-state"
    kind = "IAC_STEPFUNCTIONS_DUPLICATE_STATE"
    level = Level.ERROR
    platforms = ("cfn", "tf", "source", "data")
    summary = "A Step Functions definition uses one state name twice (nested Map/Parallel states included)."
    why = ("State names must be unique in the whole state machine, including the states inside Map iterators "
           "and Parallel branches; a duplicate fails the deployment (`Duplicate state name`). cfn-lint does not "
           "catch nested duplicates.")
    bad = {"lib/main.tf": ('resource "aws_sfn_state_machine" "sm" {\n  definition = jsonencode({\n    StartAt = "Scan"\n'
                           '    States = {\n      Scan = { Type = "Map", Next = "Done", Iterator = { StartAt = "Done",\n'
                           '        States = { Done = { Type = "Pass", End = true } } } }\n'
                           '      Done = { Type = "Succeed" }\n    }\n  })\n}\n')}
    good = {"lib/main.tf": bad["lib/main.tf"].replace('StartAt = "Done"', 'StartAt = "ScanItem"').replace(
        "States = { Done = {", "States = { ScanItem = {")}
    trigger = ("States",)

    def detect_file(self, f, ctx):
        inner: set[int] = set()
        for node, key in f.nodes:
            if node.kind == OBJ and key != "States" and id(node) not in inner:
                states = node.get("States")
                if states is not None and states.kind == OBJ and node.get("StartAt") is not None:
                    seen: Counter = Counter()
                    for name, state in _all_states(node, inner):
                        seen[name] += 1
                        if seen[name] == 2:
                            yield self.hit(f, state, f"State machine {_where(f, node)}: state name `{name}` is used "
                                           "twice (names must be unique across nested Map/Parallel states): rename one.",
                                           name)
            elif node.kind in (STR, TPL) and '"States"' in node.text and '"StartAt"' in node.text:
                yield from self._json_text(f, node)

    def _json_text(self, f: SourceFile, node: V):
        try:
            data = json.loads(node.text)
        except ValueError:
            return
        names: Counter = Counter()
        for name in _json_states(data):
            names[name] += 1
            if names[name] == 2:
                yield self.hit(f, node, f"State machine {_where(f, node)}: state name `{name}` is used twice "
                               "(names must be unique across nested Map/Parallel states): rename one.", name)


def _all_states(machine: V, inner: set[int]):
    """(name, node) of every state of a machine, nested Map/Parallel states included."""
    stack = [machine]
    while stack:
        m = stack.pop()
        inner.add(id(m))
        states = m.get("States")
        for name, state in states.items if states is not None and states.kind == OBJ else ():
            yield name, state
            if state.kind != OBJ:
                continue
            for sub in (state.get("Iterator"), state.get("ItemProcessor")):
                if sub is not None and sub.kind == OBJ:
                    stack.append(sub)
            branches = state.get("Branches")
            if branches is not None:
                stack.extend(b for b in branches.elements() if b.kind == OBJ)


def _json_states(data):
    stack = [data]
    while stack:
        m = stack.pop()
        states = m.get("States") if isinstance(m, dict) else None
        if not isinstance(states, dict):
            continue
        for name, state in states.items():
            yield name
            if isinstance(state, dict):
                stack.extend(s for s in (state.get("Iterator"), state.get("ItemProcessor")) if isinstance(s, dict))
                stack.extend(b for b in state.get("Branches") or [] if isinstance(b, dict))


# --------------------------------------------------------------------------- MF414

_HOLE = "\x00hole"  # a substituted `${...}` outside a JSON string: a value of unknown kind and length
_HOLE_JSON = '"\\u0000hole"'
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_FSTRING_PART = re.compile(r"\{\{|\}\}|\{[^{}]*\}")
_BLOCK_START = re.compile(r"(\||>|<<-?\s*['\"]?\w+['\"]?)[-+0-9]*\s*$")  # YAML `|`/`>`, HCL heredoc `<<EOF`
_DIMENSION_KEY = re.compile(r"[A-Z][A-Za-z0-9]*$|dimensions?$")  # rendering options are camelCase words


@register
class DashboardMetricShape(IacRule):
    id = "MF414"
    name = "dashboard-metric-shape"
    kind = "IAC_DASHBOARD_METRIC_SHAPE"
    level = Level.ERROR
    summary = "A CloudWatch dashboard metric array has a shape the PutDashboard API rejects."
    why = ("Each entry of a metric widget's `metrics` is `[Namespace, MetricName, DimName, DimValue, ..., "
           "{options}]` or `[{expression, id, label}]`: strings first, dimensions as name/value string pairs, at "
           "most one rendering-options object, last. A dimension map (`{FunctionName: ...}`), an object before "
           "the dimensions or a second object makes CloudWatch reject the whole body at deploy (`Should NOT have "
           "more than 2 items`). Bodies are read from JSON strings (after substituting `${...}`), `jsonencode`, "
           "`JSON.stringify` and `json.dumps`; entries built by spreads, loops or variables are not judged.")
    bad = {"lib/main.tf": ('resource "aws_cloudwatch_dashboard" "main" {\n  dashboard_name = "ops"\n'
                           '  dashboard_body = jsonencode({\n    widgets = [{\n      type = "metric"\n'
                           '      properties = {\n        metrics = [["AWS/Lambda", "Errors", { FunctionName = "f" }]]\n'
                           '        region = "us-east-1"\n      }\n    }]\n  })\n}\n')}
    good = {"lib/main.tf": bad["lib/main.tf"].replace('{ FunctionName = "f" }', '"FunctionName", "f", { stat = "Sum" }')}
    trigger = ('"metric"', "'metric'", '\\"metric\\"')

    def detect_file(self, f, ctx):
        found: dict[str, list[tuple[V, str]]] = {}  # per dashboard (the resource it sits in): bad entries
        for node, _ in f.nodes:
            bad: list[tuple[V, str]] = []
            if node.kind == OBJ:
                bad = _widget_problems(node)
                if not bad and len(node.items) == 1 and node.items[0][0] == "Fn::Join":
                    pieces = _join_pieces(node.items[0][1])
                    bad = _json_problems(f, node.items[0][1].items[1].items[0], pieces) if pieces else []
            elif node.kind in (STR, TPL) and '"metric"' in node.text and '"metrics"' in node.text:
                bad = _json_problems(f, node, _holes(node.text, f.lang, node.kind == TPL))
            if bad:
                found.setdefault(_where(f, node), []).extend(bad)
        for where, bad in found.items():
            entry, problem = bad[0]
            rest = len(bad) - 1
            more = f" ({rest} more such metric{'s' if rest > 1 else ''} in this dashboard)" if rest else ""
            yield self.hit(f, entry, f"{where}: dashboard metric {_render(entry)} {problem}, so CloudWatch rejects "
                           f"the dashboard body{more}. Write `[Namespace, MetricName, DimName, DimValue, ..., "
                           "{stat, label}]`.", "metric-shape")


def _widget_problems(widget: V) -> list[tuple[V, str]]:
    """The bad metric arrays of a metric widget `{type: "metric", properties: {metrics: [...]}}`."""
    kind = widget.get("type")
    if kind is None or kind.kind != STR or kind.text != "metric":
        return []
    props = widget.get("properties")
    metrics = props.get("metrics") if props is not None else None
    if metrics is None:
        return []
    bad = [(e, "is an object, not an array (the metricStat form of GetMetricData)")
           for e in metrics.items if e.kind == OBJ] if metrics.kind == ARR else []
    for entry in _metric_entries(metrics):
        problem = _metric_problem(entry)
        if problem and unconditional(entry):
            bad.append((entry, problem))
    return bad


def _json_problems(f: SourceFile, node: V, pieces: list[str | None] | None) -> list[tuple[V, str]]:
    """The bad metric arrays of a dashboard body held as JSON text (a CloudFormation `DashboardBody`, a
    heredoc, a template string), its placeholders made values of unknown kind."""
    if pieces is None or not unconditional(node):
        return []
    text = _fill_holes(pieces)
    if not text.lstrip().startswith("{"):
        return []
    start = node.line + (1 if _BLOCK_START.search(f.line_text(node.line)) else 0)
    body = SourceFile(f.path, "json", text, start - 1)  # node lines are lines of `f`
    doc = next((c for c in body.tree.root_node.named_children if c.type != "comment"), None) if body.tree else None
    if doc is None or doc.has_error or body.root is None:  # text after the JSON value is no concern
        return []
    return [bad for inner, _ in body.nodes if inner.kind == OBJ for bad in _widget_problems(inner)]


def _join_pieces(args: V) -> list[str | None] | None:
    """`Fn::Join: ["", [...]]` as literal pieces, None for each non-literal part."""
    if args.kind != ARR or len(args.items) != 2 or args.items[0].kind != STR or args.items[1].kind != ARR:
        return None
    sep, pieces = args.items[0].text, []
    for part in args.items[1].items:
        if pieces:
            pieces.append(sep)
        pieces.append(part.text if part.kind == STR else None)
    text = "".join(p for p in pieces if p is not None)
    return pieces if '"metric"' in text and '"metrics"' in text else None


def _metric_entries(metrics: V):
    """The metric arrays of a `metrics` value: its items, or, when the list is built (`concat`, `flatten`,
    `.map(...)`), the innermost literal arrays inside it (an array holding no array)."""
    stack = list(reversed(metrics.items)) if metrics.kind == ARR else [metrics]
    while stack:
        node = stack.pop()
        if node.kind == ARR and node.items and not any(i.kind == ARR for i in node.items):
            yield node
        elif node.kind != OBJ:
            stack.extend(reversed(list(node.children())))


def _metric_problem(entry: V) -> str | None:
    """What makes one metric array invalid, or None when it is valid or cannot be known."""
    items = entry.items
    objects = [i for i, e in enumerate(items) if e.kind == OBJ]
    if any(e.kind not in (OBJ, STR, TPL, NUM, BOOL, REF, CALL, ALT) or e.text == _HOLE for e in items):
        return None  # spreads, comprehensions, nested arrays, a substituted list: its length is unknown
    if len(objects) > 1:
        return f"has {len(objects)} objects (one options object is allowed, as the last item)"
    if objects:
        options = items[objects[0]]
        if objects[0] != len(items) - 1:
            return "has an object before its last item (dimensions are name/value strings)"
        if options.get("expression") is not None and len(items) > 1:
            return "mixes a math `expression` object with other items (an expression is alone: `[{expression, id}]`)"
        dims = [k for k, _ in options.items if _DIMENSION_KEY.match(k)]
        if dims:
            return f"puts `{dims[0]}` in its options object (dimensions are name/value strings, not options)"
    elif items[-1].kind not in (STR, TPL, NUM, BOOL):
        return None  # the last item may be a variable holding the options object
    strings = items[:-1] if objects else items
    if any(e.kind == STR and e.text in (".", "...") for e in strings):
        return None  # shorthand repeats values of the entry above
    if len(strings) == 1:
        return "lacks a namespace or metric name"
    if len(strings) % 2:
        return "has a dimension name without a value (an odd number of dimension strings)"
    return None


def _render(entry: V) -> str:
    text = json.dumps(entry.py(), ensure_ascii=False).replace(_HOLE, "...")
    return f"`{text[:100]}{'...' if len(text) > 100 else ''}`"


def _holes(text: str, lang: str, template: bool) -> list[str | None] | None:
    """Literal pieces of a string with `${...}` (Python f-string: `{...}`) placeholders, None for each
    placeholder; None for a Terraform template with `%{...}` directives (loops: the JSON is unknown)."""
    if lang == "hcl" and "%{" in text:
        return None
    pattern = _FSTRING_PART if lang == "python" and template else _PLACEHOLDER
    pieces: list[str | None] = []
    pos = 0
    for m in pattern.finditer(text):
        brace = m.group(0) in ("{{", "}}")  # an f-string's literal brace
        pieces += [text[pos:m.start()], m.group(0)[0] if brace else None]
        pos = m.end()
    pieces.append(text[pos:])
    return pieces


def _fill_holes(pieces: list[str | None]) -> str:
    """Join the pieces, each placeholder becoming `x` inside a JSON string and the hole marker outside one."""
    out: list[str] = []
    in_string = False
    for piece in pieces:
        if piece is None:
            out.append("x" if in_string else _HOLE_JSON)
            continue
        out.append(piece)
        escaped = False
        for ch in piece:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = in_string
            elif ch == '"':
                in_string = not in_string
    return "".join(out)


# --------------------------------------------------------------------------- MF415


@register
class SsmReservedPrefix(IacRule):
    id = "MF415"
    name = "ssm-reserved-prefix"
    kind = "IAC_SSM_RESERVED_PREFIX"
    level = Level.ERROR
    summary = "An SSM document is named with a reserved prefix (`AWS-`, `amazon`, `amzn`)."
    why = "SSM rejects document names that start with `aws`, `amazon` or `amzn` (any case): the deployment fails."
    bad = {"lib/template.yaml": ("Resources:\n  Doc:\n    Type: AWS::SSM::Document\n    Properties:\n"
                                "      Name: AWS-RunPatchBaselineCustom\n      DocumentType: Command\n")}
    good = {"lib/template.yaml": ("Resources:\n  Doc:\n    Type: AWS::SSM::Document\n    Properties:\n"
                                 "      Name: Custom-RunPatchBaseline\n      DocumentType: Command\n")}
    trigger = ("SSM::Document", "ssm_document", "CfnDocument", "ssm.Document")
    _RESERVED = re.compile(r"(?i)^(aws|amazon|amzn)")

    def detect_file(self, f, ctx):
        for r in resources(f):
            if r.type.lower() in ("aws::ssm::document", "aws_ssm_document") or r.type.endswith(("CfnDocument", "ssm.Document")):
                name = r.prop("Name")
                if name is not None and name.kind in (STR, TPL) and self._RESERVED.match(name.text):
                    yield self.hit(f, name, f"`{r.type} {r.name}`: document name `{name.text}` starts with a reserved "
                                   "prefix (aws/amazon/amzn): rename it, e.g. `Custom-...`.", "name")


# --------------------------------------------------------------------------- MF416

_TS_PLACEHOLDER = """
(call_expression
  function: (member_expression
    object: (call_expression function: (identifier) @fn arguments: (arguments . [(true) (false)] @actual .))
    property: (property_identifier) @matcher)
  arguments: (arguments . [(true) (false)] @expected .)) @call
"""
_TS_TEST = """
(call_expression function: [(identifier) @name (member_expression) @name]
  arguments: (arguments . (_) . [(arrow_function body: (statement_block) @body) (function_expression body: (statement_block) @body)] @fn)) @test
"""
_TS_CALLS = "[(call_expression function: (_) @callee) (new_expression constructor: (_) @callee)]"
_TS_DECLARED = "(variable_declarator name: (identifier) @name value: (_))"
_TS_WORDS = "[(comment) (string_fragment)] @x"
_PY_PLACEHOLDER = """
[(assert_statement . (false) @value) @stmt
 (call function: (attribute attribute: (identifier) @method) arguments: (argument_list . (false) @value .)) @stmt]
"""
_PY_TEST = "(function_definition name: (identifier) @name body: (block) @body) @test"
_PY_CALLS = "(call function: (_) @callee)"
_PY_DECLARED = "(assignment left: (identifier) @name)"
_PY_WORDS = "[(comment) (string_content)] @x"
_GUARDS = {"if_statement", "else_clause", "elif_clause", "ternary_expression", "conditional_expression", "catch_clause",
           "except_clause", "switch_statement", "with_statement", "try_statement", "for_statement", "while_statement"}
_FUNCS = {"arrow_function", "function_expression", "function_declaration", "function_definition", "method_definition"}
# Words of anything that asserts, fails, skips or may check (check*/verify*/... helpers), lower case: a test
# whose text holds none of them makes no assertion. Matched on lowered text, so `assertEqual`, `toThrow` and
# `hasResourceProperties` are in.
_CHECKS = re.compile(r"expect|assert|should|throw|reject|resolves|fail|raise|template|has_?resource|resource_?count"
                     r"|check|verif|validat|ensur|skip|todo")
_LOGGING = re.compile(r"(console|logger|logging|log)\.\w+$|print$")
_ELISION = re.compile(r"(//|#|/\*).*(\.\.\.|…)")  # `// ...` in a test body: abbreviated code, not a test
_COMMENT = re.compile(r"(^|\s)(//|#|/\*)")
_TS_TEST_STARTS = ("it(", "test(", "it.only(", "test.only(")
# Functions a test may call that could assert: defined in the file or imported from a relative module.
_TS_HELPERS = re.compile(r"function\*?\s+(\w+)|(?:const|let|var)\s+(\w+)\s*=\s*(?:async\s*)?(?:function|\(|\w+\s*=>)"
                         r"|^\s*(?:async\s+)?(\w+)\s*\([^)]*\)\s*(?::\s*[\w<>\[\], |]+)?\s*\{", re.M)  # or a method
_TS_RELATIVE_IMPORT = re.compile(r"import\s+(?:\*\s+as\s+(\w+)|(\w+)|\{([^}]*)\})\s+from\s+['\"]\.")
_PY_HELPERS = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)", re.M)
_PY_RELATIVE_IMPORT = re.compile(r"^from[ \t]+(?:\.|\S*(?:test|helper|util|fixture|conftest))\S*[ \t]+import[ \t]+"
                                 r"\(?([^)\n]*)", re.M)
_TEST_FRAMEWORK = re.compile(r"\b(?:import|from)\s+(?:pytest|unittest)\b|^class Test\w*|\bdescribe\(|@jest/globals",
                             re.M)


@register
class PlaceholderTest(IacRule):
    id = "MF416"
    name = "placeholder-test"
    kind = "IAC_PLACEHOLDER_TEST"
    level = Level.WARNING
    summary = ("A test that always fails or tests nothing: unconditional `expect(false).toBe(true)`, `assert False`, "
               "an empty test body, a test with no assertion.")
    why = ("Placeholder tests come from generated scaffolding: they fail the pipeline or pass without checking "
           "anything. A failure inside a guard (`if not outputs: assert False, ...`, a catch block) is a real "
           "check and is not reported; nor are skipped tests. A test without any assertion is reported when it "
           "does nothing but log, or when it computes a value it never checks; a test that calls a helper of its "
           "own (or any `check*`/`verify*`/`validate*`/`ensure*` function) or a callback (`done`) may be "
           "asserting and is left alone.")
    bad = {"test/tap-stack.unit.test.ts": "describe('Stack', () => {\n  test('todo', async () => {\n    expect(false).toBe(true);\n  });\n});\n"}
    good = {"test/tap-stack.unit.test.ts": ("describe('Stack', () => {\n  test('outputs', async () => {\n    if (!outputs) {\n"
                                            "      expect(false).toBe(true);\n    }\n    expect(outputs.Bucket).toBeDefined();\n  });\n});\n")}
    trigger = ("expect(true)", "expect(false)", "assert False", "assertTrue(False)", "assert_(False)")
    # only files with an always-failing pair are parsed for it (the tree then rules out guarded ones)
    needs = re.compile(r"expect\(\s*(?:true\s*\)\s*\.\s*to(?:Be|Equal|StrictEqual)\(\s*false|"
                       r"false\s*\)\s*\.\s*to(?:Be|Equal|StrictEqual)\(\s*true)\s*\)|assert False|assert(?:True|_)\(\s*False")

    def check(self, task, config):
        if not self.enabled(Context(task, config)):
            return
        files = test_files(task)
        if task.changed is not None:
            files = [f for f in files if task.changed.get(f.path)]
        for hit in self.detect(files, Context(task, config)):
            yield self.finding(hit.path, hit.line, hit.message, hit.evidence)

    def detect(self, files, ctx):
        for f in files:
            if f.lang not in ("typescript", "tsx", "javascript", "python"):
                continue
            # a fenced block of MODEL_RESPONSE.md is a test file only if it uses a test framework
            silent = _may_lack_checks(f) and (f.offset == 0 or _TEST_FRAMEWORK.search(f.text) is not None)
            placeholder = self.triggered(f)
            if not (placeholder or silent) or f.tree is None:
                continue
            if f.lang == "python":
                yield from self._py(f, placeholder, silent)
            else:
                yield from self._ts(f, placeholder, silent)

    def _ts(self, f: SourceFile, placeholder: bool, silent: bool):
        root = f.tree.root_node
        for m in langs.matches(f.lang, _TS_PLACEHOLDER, root) if placeholder else ():
            call, fn, matcher, actual, expected = m["call"], m["fn"], m["matcher"], m["actual"], m["expected"]
            if fn.text == b"expect" and matcher.text in (b"toBe", b"toEqual", b"toStrictEqual") \
                    and actual.type != expected.type and _unguarded(call) and not _skipped(call):
                yield self._hit(f, call, f"`{call.text.decode()}` always fails: replace the placeholder with a real "
                                "assertion.", "always-fails")
        for m in langs.matches(f.lang, _TS_TEST, root) if silent else ():
            test, name, body, fn = m["test"], m["name"], m["body"], m["fn"]
            if name.text.split(b".")[0] not in (b"test", b"it") or test.has_error or _skipped(test):
                continue  # a syntax error: code cut off (a truncated response), not a test to judge
            args = test.child_by_field_name("arguments")
            title = args.named_children[0].text.decode("utf-8", "replace") if args.named_children else ""
            label = f"`{name.text.decode()}({title[:60]}{'...' if len(title) > 60 else ''})`"
            if body.named_child_count == 0:
                yield self._hit(f, test, f"{label} has an empty body: it passes without testing anything.", "empty")
            elif not _has_params(fn):  # a `done` callback fails the test
                yield from self._unchecked(f, test, body, label, _TS_CALLS, _TS_DECLARED)

    def _py(self, f: SourceFile, placeholder: bool, silent: bool):
        root = f.tree.root_node
        caps = langs.captures("python", _PY_PLACEHOLDER, root) if placeholder else {}
        methods = {m.parent.parent.id: m.text for m in caps.get("method", [])}
        for stmt in caps.get("stmt", []):
            method = methods.get(stmt.id)
            if stmt.type == "call" and method not in (b"assertTrue", b"assert_"):
                continue
            if _unguarded(stmt) and not _skipped(stmt):
                yield self._hit(f, stmt, f"`{stmt.text.decode()[:60]}` always fails: replace the placeholder with a "
                                "real assertion.", "always-fails")
        for m in langs.matches("python", _PY_TEST, root) if silent else ():
            test, name, body = m["test"], m["name"], m["body"]
            if not name.text.startswith(b"test") or test.has_error or _skipped(test):
                continue
            stmts = [c for c in body.named_children if c.type != "comment"]
            label = f"`{name.text.decode()}`"
            if stmts and all(_is_pass_or_doc(s) for s in stmts):
                yield self._hit(f, test, f"{label} has no statements: it passes without testing anything.", "empty")
            elif stmts:
                yield from self._unchecked(f, test, body, label, _PY_CALLS, _PY_DECLARED)

    def _unchecked(self, f: SourceFile, test, body, label: str, calls_query: str, declared_query: str):
        """A test body with no assertion: reported when it only logs, or computes a value it never reads
        and calls no helper that could check it."""
        text = body.text.decode("utf-8", "replace")
        if _code_word(text, text.lower(), 0, len(text)) or _ELISION.search(text) \
                or _CHECKS.search(_code_only(f, body).lower()):  # the cheap line test first, then the tree's
            return
        if f.path.endswith(".md") and f.path != MODEL_RESPONSE and _COMMENT.search(text):
            return  # in a report's code block a comment stands for left-out code (`// Test 1`, `# checks here`)
        callees = [c.text.decode() for c in langs.captures(f.lang, calls_query, body).get("callee", [])]
        callees = [c for c in callees if not _LOGGING.search(c)]
        if not callees:
            yield self._hit(f, test, f"{label} makes no assertion: it passes without testing anything.", "no-assertion")
            return
        helpers = _helpers(f)
        if any(c.rsplit(".", 1)[-1] in helpers or c.split(".", 1)[0] in helpers for c in callees):
            return
        declared = langs.captures(f.lang, declared_query, body).get("name", [])
        for name in sorted(declared, key=lambda n: n.start_byte):
            word = name.text.decode()
            if len(re.findall(rf"(?<![\w$.]){re.escape(word)}\b", text)) == 1:
                yield self._hit(f, test, f"{label} computes `{word}` but never checks it: the test makes no "
                                "assertion.", "no-assertion")
                return

    def _hit(self, f: SourceFile, node, message: str, tag: str) -> Hit:
        line = node.start_point[0] + 1 + f.offset
        return Hit(f.path, line, message, f.line_text(line)[:200], tag=tag)


def _code_only(f: SourceFile, body) -> str:
    """The body's text without comments and string contents (a docstring saying "verify" checks nothing)."""
    text, start, out, pos = body.text, body.start_byte, [], 0
    words = langs.captures(f.lang, _PY_WORDS if f.lang == "python" else _TS_WORDS, body).get("x", [])
    for node in sorted(words, key=lambda n: n.start_byte):  # captures come in no fixed order
        a, b = node.start_byte - start, node.end_byte - start
        if a >= pos:
            out.append(text[pos:a])
            pos = b
    out.append(text[pos:])
    return b" ".join(out).decode("utf-8", "replace")


def _may_lack_checks(f: SourceFile) -> bool:
    """A cheap text test that decides which test files are parsed: some test's text holds no check word.
    A Python test's text is its body by indentation (a line less indented inside it, a comment or a
    string, ends it early: a test parsed for nothing, never one missed); a JS/TS test's runs up to the
    next test (over-estimated: a test may be missed, never added)."""
    seen = f.__dict__.get("_may_lack_checks")
    if seen is None:
        text, low = f.text, f.text.lower()
        spans = []
        if f.lang == "python":
            for i in _find_all(text, "def test"):
                line_start = text.rfind("\n", 0, i) + 1
                indent = len(text[line_start:i]) - len(text[line_start:i].lstrip(" \t"))
                end = _outdented(indent).search(text, i)
                spans.append((text.find(":", i), end.start() if end else len(text)))  # after the name
        else:
            starts = sorted(i + len(word) for word in _TS_TEST_STARTS for i in _find_all(text, word)
                            if i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_.$"))
            spans = [(_after_name(text, a), b) for a, b in zip(starts, starts[1:] + [len(text)])]
        seen = any(not _code_word(text, low, a, b) for a, b in spans)
        f.__dict__["_may_lack_checks"] = seen
    return seen


@lru_cache(maxsize=None)
def _outdented(indent: int) -> re.Pattern:
    """The next line that holds something and is indented `indent` columns or less: a function's end."""
    return re.compile(r"\n[ \t]{0,%d}(?=[^ \t\r\n])" % indent)


def _code_word(text: str, low: str, start: int, end: int) -> bool:
    """Whether text[start:end] holds a check word outside strings and comments, judged by the text
    before it on its line (a multi-line string or comment counts as code: the safe direction)."""
    for word in ("expect", "assert"):  # the usual words first, by fast substring search
        i = low.find(word, start, end)
        if i >= 0 and _in_code(text, i):
            return True
    return any(_in_code(text, m.start()) for m in _CHECKS.finditer(low, start, end))


def _in_code(text: str, i: int) -> bool:
    before = text[text.rfind("\n", 0, i) + 1:i]
    return not ("//" in before or "#" in before or before.count("'") % 2 or before.count('"') % 2
                or before.count("`") % 2)


def _after_name(text: str, i: int) -> int:
    """The position after a test's name (`it('name', ...`): its words are no check."""
    quote = text[i:i + 1]
    end = text.find(quote, i + 1) if quote in ("'", '"', "`") else -1
    return end + 1 if end > 0 else i


def _find_all(text: str, word: str):
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)


def _helpers(f: SourceFile) -> set[str]:
    """Names of functions the file defines or imports from a relative (test helper) module."""
    found = f.__dict__.get("_test_helpers")
    if found is None:
        found = set()
        if f.lang == "python":
            found.update(_PY_HELPERS.findall(f.text))
            for names in _PY_RELATIVE_IMPORT.findall(f.text):
                found.update(n.split(" as ")[-1].strip() for n in names.split(","))
        else:
            for groups in _TS_HELPERS.findall(f.text):
                found.update(g for g in groups if g)
            for ns, default, names in _TS_RELATIVE_IMPORT.findall(f.text):
                found.update(n.split(" as ")[-1].strip() for n in names.split(","))
                found.update(g for g in (ns, default) if g)
        found.discard("")
        f.__dict__["_test_helpers"] = found
    return found


def _has_params(fn) -> bool:
    """`(done) => ...`, `done => ...`, `function (done) {...}`: the test takes a callback."""
    if fn.child_by_field_name("parameter") is not None:
        return True
    params = fn.child_by_field_name("parameters")
    return params is not None and params.named_child_count > 0


def _unguarded(node) -> bool:
    """No if/catch/loop/ternary between the node and its enclosing function."""
    n = node.parent
    while n is not None and n.type not in _FUNCS:
        if n.type in _GUARDS:
            return False
        n = n.parent
    return True


def _skipped(node) -> bool:
    """Inside `test.skip(...)`, `it.todo`, `xit(...)` or a function decorated with a pytest skip mark."""
    n = node
    while n is not None:
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and re.search(rb"\.(skip|todo)$|^x(it|test|describe)$", fn.text):
                return True
        if n.type == "decorated_definition" and re.search(rb"mark\.(skip|xfail)|unittest\.skip", n.text.split(b"def ", 1)[0]):
            return True
        n = n.parent
    return False


def _is_pass_or_doc(stmt) -> bool:
    if stmt.type == "pass_statement":
        return True
    return stmt.type == "expression_statement" and stmt.named_child_count == 1 and stmt.named_children[0].type == "string"
