"""Report claims checked with the IaC rules (MF481-MF483).

An entry of MODEL_FAILURES.md claims an IaC defect unambiguously in two ways:
- its model-role snippet (the code the report says the model wrote) makes an IaC rule fire, and its
  fix-role snippet, if any, does not;
- its title, fields or inline code name a defect only one rule knows, in words that cannot be read
  the other way round ("PowerUserAccess", "treatMissingData", "encryption context").
The rule then runs on the code fences of MODEL_RESPONSE.md and on the final code:
- MF481: the rule finds nothing of the kind in MODEL_RESPONSE.md (the claimed defect is not there);
- MF482: the same defect is still in the final code (the claimed fix was not applied);
- MF483: the entry's fix snippet makes a security rule fire that neither the model's snippet nor
  MODEL_RESPONSE.md triggers, and the final code has it: the "fix" weakened security.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from bot.findings import Level
from bot.iac.files import SourceFile, final_files, model_files, snippet_files, test_files
from bot.iac.rule import Context, Hit, IacRule
from bot.report.model import FIX, MODEL, Entry
from bot.rules import Rule, all_rules, register


@dataclass(frozen=True)
class Words:
    """Entry words that name a rule's defect, and how to test the model's code for it: for a
    presence defect the `literal` must be missing from MODEL_RESPONSE.md's code, for an absence
    defect (a missing setting) it must be there, for the claim to be unsupported."""

    entry: re.Pattern
    literal: re.Pattern | None = None
    absence: bool = False


_WORDS = {
    "MF401": Words(re.compile(r"encryption[ _-]?context|EncryptionContext", re.I), re.compile(r"EncryptionContext"), True),
    "MF407": Words(re.compile(r"\b(PowerUserAccess|AdministratorAccess)\b"), re.compile(r"PowerUserAccess|AdministratorAccess")),
    "MF410": Words(re.compile(r"treatMissingData|treat_missing_data|TreatMissingData"),
                   re.compile(r"treatMissingData|treat_missing_data|TreatMissingData"), True),
    "MF413": Words(re.compile(r"duplicate state", re.I)),
    # the CloudWatch API's own rejection messages, or a dashboard entry about its metric arrays' shape
    "MF414": Words(re.compile(r"dashboard[^\n]{0,80}metric[^\n]{0,60}(?:format|array|structure|shape|items|invalid)"
                              r"|Should NOT have more than \d+ items|Invalid metric field type", re.I),
                   re.compile(r"metrics")),
    "MF415": Words(re.compile(r"reserved (?:document )?(?:name )?prefix", re.I)),
}


@dataclass
class Claim:
    entry: Entry
    rule: IacRule
    how: str  # what in the entry names the defect
    snippet_hit: Hit | None = None  # the hit on the entry's model snippet, for snippet claims
    snippet_lang: str = ""


def _iac_rules(ctx: Context) -> list[IacRule]:
    return [r for r in all_rules() if isinstance(r, IacRule) and r.enabled(ctx)]


def _entry_words(entry: Entry) -> str:
    values = [v for v, _ in entry.fields.values()]
    return "\n".join([entry.title, *values, *(i.text for i in entry.inline)])


def claims(task, ctx: Context) -> list[Claim]:
    """The IaC defects the report's entries claim, computed once per task."""
    cache = task.__dict__.setdefault("_iac_cache", {})
    if "claims" in cache:
        return cache["claims"]
    found: list[Claim] = []
    rules = _iac_rules(ctx)
    for entry in task.report.entries:
        model_snips = snippet_files(task, [c for c in entry.code if c.role == MODEL])
        fix_snips = snippet_files(task, [c for c in entry.code if c.role == FIX])
        words = _entry_words(entry)
        for rule in rules:
            if model_snips:  # (most entries quote no model code)
                snippet = next(((s, h) for s in model_snips for h in rule.detect([s], ctx)), None)
                if snippet and not (fix_snips and list(rule.detect(fix_snips, ctx))):
                    found.append(Claim(entry, rule, "its model snippet", snippet[1], snippet[0].lang))
                    continue
            spec = _WORDS.get(rule.id)
            m = spec.entry.search(words) if spec else None
            if m:
                found.append(Claim(entry, rule, f"`{m.group(0)}`"))
    cache["claims"] = found
    return found


def _final(task, rule: IacRule) -> list[SourceFile]:
    return test_files(task) if rule.id == "MF416" else final_files(task)


def _describe(hit: Hit) -> str:
    return f"{hit.path}:{hit.line}: {hit.message}"


class _ClaimRule(Rule):
    scope = "report"

    def check(self, task, config):
        ctx = Context(task, config)
        for claim in claims(task, ctx):
            yield from self.judge(task, ctx, claim)

    def judge(self, task, ctx: Context, claim: Claim) -> Iterator:
        raise NotImplementedError


@register
class ClaimNotInModel(_ClaimRule):
    id = "MF481"
    name = "iac-claim-not-in-model-response"
    kind = "EVIDENCE_NOT_IN_MODEL_RESPONSE"
    level = Level.WARNING
    summary = "An entry claims an IaC defect (by its model snippet or its words) that the IaC rule does not find in MODEL_RESPONSE.md."
    why = ("The report is training data about what the model got wrong. When the IaC rule that knows the "
           "defect finds nothing of the kind in the model's code, the entry describes a mistake the model did "
           "not make (often the snippet was retyped from the final code or another task).")
    bad = {"lib/MODEL_FAILURES.md": "# Model Failures\n\n### 1. PowerUserAccess on the build role\n\nThe model attached `PowerUserAccess`.\n",
           "lib/MODEL_RESPONSE.md": "```yaml\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n```\n"}
    good = {"lib/MODEL_FAILURES.md": bad["lib/MODEL_FAILURES.md"],
            "lib/MODEL_RESPONSE.md": "```yaml\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns: [arn:aws:iam::aws:policy/PowerUserAccess]\n```\n"}

    def judge(self, task, ctx, claim):
        models = model_files(task)
        if not models:
            return
        if list(claim.rule.detect(models, ctx)):
            return
        code = "\n".join(f.text for f in models)
        spec = _WORDS.get(claim.rule.id)
        if claim.snippet_hit is None:
            if spec is None or spec.literal is None or bool(spec.literal.search(code)) != spec.absence:
                return
        elif not any(f.lang == claim.snippet_lang for f in models):
            return  # the model's code has no file in the snippet's language: nothing to compare
        evidence = _describe(claim.snippet_hit) if claim.snippet_hit else f"matched {claim.how}"
        yield self.finding(task.report_path, claim.entry.line,
                           f"Entry '{claim.entry.title[:80]}' claims {claim.rule.kind} ({claim.how}), but "
                           f"{claim.rule.id} {claim.rule.name} finds no such defect in the code of MODEL_RESPONSE.md.",
                           evidence=evidence)


@register
class FixNotApplied(_ClaimRule):
    id = "MF482"
    name = "iac-fix-not-applied"
    kind = "FIX_NOT_APPLIED"
    level = Level.ERROR
    summary = "An entry claims an IaC defect was fixed, but the same defect is still in the final code."
    why = ("The report says the model's mistake was corrected; the IaC rule still finds it in the final "
           "code. For a snippet claim the very line the report quotes as the model's is still there; for a "
           "claim by name, no instance of the defect was removed.")
    bad = {"lib/MODEL_FAILURES.md": ("# Model Failures\n\n### 1. Alarms ignore missing data\n\nNo `treatMissingData` "
                                     "on the error alarm; fixed by setting it.\n"),
           "lib/MODEL_RESPONSE.md": "```ts\nnew cloudwatch.Alarm(this, 'Errors', { metric, threshold: 1 });\n```\n",
           "lib/tap-stack.ts": "new cloudwatch.Alarm(this, 'Errors', { metric, threshold: 1 });\n"}
    good = {"lib/MODEL_FAILURES.md": bad["lib/MODEL_FAILURES.md"],
            "lib/MODEL_RESPONSE.md": bad["lib/MODEL_RESPONSE.md"],
            "lib/tap-stack.ts": ("new cloudwatch.Alarm(this, 'Errors', { metric, threshold: 1,\n"
                                 "  treatMissingData: cloudwatch.TreatMissingData.BREACHING });\n")}

    def judge(self, task, ctx, claim):
        final = [h for h in claim.rule.detect(_final(task, claim.rule), ctx) if claim.rule.allowed(h, ctx)]
        if not final:
            return
        if claim.snippet_hit is not None:
            quoted = _norm_line(claim.snippet_hit.evidence)
            same = [h for h in final if quoted and _norm_line(h.evidence) == quoted]
            if not same:
                return
            hit = same[0]
        else:
            models = model_files(task)
            before = list(claim.rule.detect(models, ctx)) if models else []
            if not before or len(final) < len(before):
                return
            hit = final[0]
        yield self.finding(task.report_path, claim.entry.line,
                           f"Entry '{claim.entry.title[:80]}' reports {claim.rule.kind} ({claim.how}) as fixed, but "
                           f"{claim.rule.id} {claim.rule.name} still finds it in the final code ({len(final)} place"
                           f"{'s' if len(final) > 1 else ''}, first {task.display(hit.path)}:{hit.line}).",
                           evidence=_describe(hit))


def _norm_line(text: str) -> str:
    return re.sub(r"\s+", "", text).rstrip(",;")


@register
class SecurityDowngrade(Rule):
    id = "MF483"
    name = "iac-security-downgrade"
    kind = "SECURITY_DOWNGRADE"
    level = Level.ERROR
    summary = "An entry's fix introduces a security defect (wildcard IAM, open ingress, disabled encryption, ...) the model's code did not have."
    why = ("A report that presents a weaker configuration as the fix teaches the opposite of the lesson. The "
           "IaC security rule fires on the entry's fix snippet and on the final code, but neither on the "
           "entry's model snippet nor on MODEL_RESPONSE.md.")
    bad = {"lib/MODEL_FAILURES.md": ("# Model Failures\n\n### 1. Deploy role lacked permissions\n\nThe model's role "
                                     "was too narrow.\n\n**Fix:**\n```ts\nrole.addToPolicy(new iam.PolicyStatement({ "
                                     "actions: ['*'], resources: ['*'] }));\n```\n"),
           "lib/MODEL_RESPONSE.md": ("```ts\nrole.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], "
                                     "resources: ['*'] }));\n```\n"),
           "lib/tap-stack.ts": "role.addToPolicy(new iam.PolicyStatement({ actions: ['*'], resources: ['*'] }));\n"}
    good = {"lib/MODEL_FAILURES.md": bad["lib/MODEL_FAILURES.md"].replace("actions: ['*']", "actions: ['s3:PutObject']"),
            "lib/MODEL_RESPONSE.md": bad["lib/MODEL_RESPONSE.md"],
            "lib/tap-stack.ts": "role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: ['*'] }));\n"}

    scope = "report"

    def check(self, task, config):
        ctx = Context(task, config)
        for entry in task.report.entries:
            fixes = snippet_files(task, [c for c in entry.code if c.role == FIX])
            if not fixes:
                continue
            own = snippet_files(task, [c for c in entry.code if c.role == MODEL])
            for rule in _iac_rules(ctx):
                if not rule.security:
                    continue
                fix_hits = list(rule.detect(fixes, ctx))
                # the model's code is parsed only when a fix snippet fires
                if not fix_hits or (own and list(rule.detect(own, ctx))) or not model_files(task) \
                        or list(rule.detect(model_files(task), ctx)):
                    continue
                final = [h for h in rule.detect(final_files(task), ctx) if rule.allowed(h, ctx)]
                if final:
                    yield self.finding(task.report_path, fix_hits[0].line,
                                       f"Entry '{entry.title[:80]}' presents as a fix code that {rule.id} {rule.name} "
                                       f"flags ({rule.kind}), and the model's code did not have it; the final code "
                                       f"has it at {task.display(final[0].path)}:{final[0].line}.",
                                       evidence=_describe(fix_hits[0]))
