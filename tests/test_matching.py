"""The code matcher: quotes edited the way report authors edit them still match; code that is
nowhere does not."""

from bot.matching import Haystack, lang_of, match_block, match_inline, normalise, strip_comments

STACK = """import * as s3 from 'aws-cdk-lib/aws-s3';

export class TapStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: TapStackProps) {
    super(scope, id, props);
    const bucket = new s3.Bucket(this, 'LogsBucket', {
      encryption: s3.BucketEncryption.KMS, // customer key
      versioned: true,
      lifecycleRules: [{ noncurrentVersionExpiration: cdk.Duration.days(30), enabled: true }],
    });
    new cdk.CfnOutput(this, 'BucketName', { value: bucket.bucketName });
  }
}
"""
TEMPLATE_JSON = """{
  "Resources": {
    "Queue": {
      "Type": "AWS::SQS::Queue",
      "Properties": {"VisibilityTimeout": 300, "Tags": [{"Key": "team", "Value": "data"}]}
    }
  }
}
"""
MAIN_TF = """resource "aws_s3_bucket" "logs" {
  bucket = "logs-${var.environment_suffix}"
  # keep objects
  force_destroy = false
}
"""
MODEL_MD = "# Model response\n\nHere is the stack:\n\n```typescript\n" + STACK + "```\n"


def hay() -> Haystack:
    return Haystack([("lib/tap-stack.ts", STACK), ("lib/template.json", TEMPLATE_JSON), ("lib/main.tf", MAIN_TF)])


def test_exact_quote_matches_and_says_where():
    m = match_block("versioned: true,\nlifecycleRules: [{ noncurrentVersionExpiration: cdk.Duration.days(30), enabled: true }],",
                    "ts", hay())
    assert m.score == 1.0
    assert (m.path, m.line, m.end_line) == ("lib/tap-stack.ts", 8, 9)


def test_reindented_quote_matches():
    quote = "const bucket = new s3.Bucket(this, 'LogsBucket', {\nencryption: s3.BucketEncryption.KMS,\n        versioned: true,\n});"
    assert match_block(quote, "typescript", hay()).score == 1.0


def test_added_comments_are_ignored():
    quote = ("const bucket = new s3.Bucket(this, 'LogsBucket', {  // ❌ Too broad\n"
             "  // The model forgot the key\n  encryption: s3.BucketEncryption.KMS, /* weak */\n  versioned: true, // fine\n});")
    assert match_block(quote, "ts", hay()).score == 1.0


def test_hash_comments_added_to_terraform_are_ignored():
    quote = 'resource "aws_s3_bucket" "logs" {  # Too broad\n  bucket = "logs-${var.environment_suffix}"\n}'
    assert match_block(quote, "hcl", hay()).score == 1.0


def test_elisions_are_gaps():
    quote = ("const bucket = new s3.Bucket(this, 'LogsBucket', {\n  // ... other config\n  ...\n"
             "  lifecycleRules: [{ noncurrentVersionExpiration: cdk.Duration.days(30), enabled: true }],\n});\n"
             "# ...\nnew cdk.CfnOutput(this, 'BucketName', { ... });")
    m = match_block(quote, "ts", hay())
    assert m.score == 1.0, m


def test_inline_elision_matches_by_parts():
    m = match_block("new cdk.CfnOutput(this, 'BucketName', { ... });\nsuper(scope, id, props);", "ts", hay())
    assert m.found == 1  # the elided line is found; the second line stands before it, out of order
    m = match_block("super(scope, id, props);\nnew cdk.CfnOutput(this, 'BucketName', { ... });", "ts", hay())
    assert m.score == 1.0


def test_json_reserialised_matches():
    quote = '{"Type": "AWS::SQS::Queue", "Properties": {\n  "VisibilityTimeout": 300,\n  "Tags": [\n    {"Key": "team", "Value": "data"}\n  ]\n}}'
    assert match_block(quote, "json", hay()).score == 1.0


def test_wrapped_lines_match():
    quote = ("lifecycleRules: [{\n  noncurrentVersionExpiration: cdk.Duration.days(30),\n  enabled: true,\n}],")
    assert match_block(quote, "ts", hay()).score == 1.0


def test_quote_style_swaps_match():
    quote = 'const bucket = new s3.Bucket(this, "LogsBucket", {\n  encryption: s3.BucketEncryption.KMS,\n});'
    assert match_block(quote, "ts", hay()).score == 1.0
    assert match_block("bucket = 'logs-${var.environment_suffix}'\nforce_destroy = false", "hcl", hay()).score == 1.0


def test_code_that_is_nowhere_does_not_match():
    quote = "const queue = new sqs.Queue(this, 'Jobs', {\n  visibilityTimeout: cdk.Duration.minutes(5),\n});\nqueue.grantSendMessages(role);"
    m = match_block(quote, "ts", hay())
    assert m.score == 0.0 and m.path is None
    assert m.describe() == "no line found anywhere"


def test_partly_invented_quote_scores_its_share_and_shows_closest_match():
    quote = ("const bucket = new s3.Bucket(this, 'LogsBucket', {\n  publicReadAccess: true,\n"
             "  websiteIndexDocument: 'index.html',\n  websiteErrorDocument: 'error.html',\n});")
    m = match_block(quote, "ts", hay())
    assert m.found == 1 and m.total == 4
    assert m.describe() == "lib/tap-stack.ts:6 (25% of lines)"


def test_lines_out_of_order_do_not_count_twice():
    quote = "new cdk.CfnOutput(this, 'BucketName', { value: bucket.bucketName });\nversioned: true,"
    assert match_block(quote, "ts", hay()).found == 1


def test_markdown_haystack_reports_lines_of_the_markdown_file():
    m = match_block("versioned: true,\nsuper(scope, id, props);", "ts", Haystack([("lib/MODEL_RESPONSE.md", MODEL_MD)]))
    assert m.found == 1  # in order: super(...) stands before versioned
    m = match_block("super(scope, id, props);\nversioned: true,", "ts", Haystack([("lib/MODEL_RESPONSE.md", MODEL_MD)]))
    assert (m.score, m.path, m.line, m.end_line) == (1.0, "lib/MODEL_RESPONSE.md", 10, 13)


def test_inline_code_by_whole_text_then_by_names():
    assert match_inline("noncurrentVersionExpiration: cdk.Duration.days(30)", hay()).score == 1.0
    assert match_inline("versioned:true", hay()).score == 1.0
    m = match_inline("noncurrentDays: 30", hay())
    assert m.score == 0.5  # `30` is there, `noncurrentDays` is not
    assert match_inline("objectLockEnabled: true", hay()).score < 1.0


def test_window_limits_a_haystack_to_lines_of_one_file():
    w = hay().window("lib/tap-stack.ts", 7, 9)
    assert match_block("versioned: true,\nencryption: s3.BucketEncryption.KMS,", "ts", w).found == 1
    assert match_block("super(scope, id, props);\nversioned: true", "ts", w).found == 1


def test_strip_comments_keeps_strings_and_urls():
    text = "a = \"http://x\" // c\nb = 'x#y' # z\nc = s3.arn('*/*') /* d */"
    assert strip_comments(text, "hcl") == "a = \"http://x\" \nb = 'x#y' \nc = s3.arn('*/*') "
    assert strip_comments("x: 1 # note\nurl: http://a/b", "yaml") == "x: 1 \nurl: http://a/b"
    assert strip_comments("a /* one\ntwo */ b", "ts") == "a \n b"
    assert strip_comments("<!-- note -->\n<a/>", "xml") == "\n<a/>"
    assert strip_comments("select 1 -- why", "sql") == "select 1 "


def test_normalise_drops_punctuation_only_lines_and_marks_elisions():
    lines = normalise("foo(a,\n    b);\n});\n  ...\nbar: { ... }", "ts")
    assert [n for n, _, _ in lines] == ["foo(a", "b)", "bar:{…}"]
    assert [e for _, _, e in lines] == [False, False, True]
    assert normalise("...props,", "ts")[0][0] == "...props"  # a spread is code, not an elision


def test_lang_of_fence_and_path():
    assert lang_of("typescript") == "typescript"
    assert lang_of("lib/main.tf") == "hcl"
    assert lang_of("lib/TapStack.yml") == "yaml"
    assert lang_of("") == ""


def test_condensed_code_and_reordered_keys_match_by_names_close_together():
    condensed = "const bucket = new s3.Bucket(this, 'LogsBucket', { versioned: true, encryption: s3.BucketEncryption.KMS });"
    assert match_block(condensed + "\nsuper(scope, id, props);", "ts", hay()).found == 1  # in order: bucket after super
    assert match_block("super(scope, id, props);\n" + condensed, "ts", hay()).score == 1.0
    reordered = '"Properties": {"Tags": [{"Value": "data", "Key": "team"}], "VisibilityTimeout": 300, ...}'
    assert match_block('"Type": "AWS::SQS::Queue",\n' + reordered, "json", hay()).score == 1.0
    # One invented name is enough not to match.
    assert match_block("import { TapQueue } from 'aws-cdk-lib/aws-s3';\nforce_destroy: publicRead(team)", "ts", hay()).score == 0.0
    # Names spread over more than one window of the haystack do not match either.
    far = Haystack([("a.ts", "const alphaValue = 1;\n" + "x = 0;\n" * 200 + "const betaValue = gammaValue;\n")])
    assert match_block("foo(alphaValue, betaValue, gammaValue)\nfoo(alphaValue, betaValue, gammaValue)", "ts", far).score == 0.0


def test_normalised_text_keeps_non_ascii_and_line_structure():
    # The byte translation must treat multi-byte characters as text: curly quotes become `"`, a
    # no-break space goes, other characters (and lone surrogates from JSON) stay.
    from bot.matching import _normal_text

    text = "name: \u2018caf\u00e9 \u6771\u4eac\u2019,\u00a0x\ttags; ...\n  `a` \ud800\n"
    assert _normal_text(text, "text") == 'name:"café東京"x' + "tags…\n" + '"a"\ud800\n'


def test_comment_free_text_is_returned_as_is():
    code = "const url = 'http://x';\nconst s = `a ${b}`;"
    assert strip_comments(code.replace("//", ""), "ts") == code.replace("//", "")
    assert strip_comments(code, "ts") == code  # `//` inside a string literal is kept


def test_repeated_lookups_give_the_same_positions():
    hay = Haystack([("a.ts", "x = call(alpha);\ny = 2;\nx = call(alpha);\n")])
    first = hay.positions("x=call(alpha)", False)
    assert first == [0, 2] and hay.positions("x=call(alpha)", False) == first
