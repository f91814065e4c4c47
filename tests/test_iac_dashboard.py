"""MF414 dashboard-metric-shape: CloudWatch dashboard metric arrays the PutDashboard API rejects, on every
platform a dashboard body is written in (JSON text with placeholders, jsonencode, JSON.stringify, json.dumps)."""

import pytest

from tests.conftest import review_files


def _cfn_yaml(metrics: str, condition: str = "") -> str:
    body = ('      DashboardBody: !Sub |\n        {\n          "widgets": [{\n            "type": "metric",\n'
            '            "properties": {\n              "metrics": [\n                ' + metrics + '\n'
            '              ],\n              "region": "${AWS::Region}"\n            }\n          }]\n        }\n')
    return ("Resources:\n  Dashboard:\n    Type: AWS::CloudWatch::Dashboard\n" + condition +
            "    Properties:\n" + body)


def _if_prod(template: str) -> str:
    """The template's dashboard body inside `!If [IsProd, body, !Ref AWS::NoValue]`."""
    head, body = template.split("      DashboardBody: !Sub |\n")
    body = "".join("    " + line for line in body.splitlines(keepends=True))
    return head + "      DashboardBody: !If\n        - IsProd\n        - !Sub |\n" + body + "        - !Ref AWS::NoValue\n"


def _cfn_json(metrics: str) -> str:
    body = ('{\\"widgets\\": [{\\"type\\": \\"metric\\", \\"properties\\": {\\"metrics\\": [' + metrics.replace('"', '\\"')
            + '], \\"region\\": \\"${AWS::Region}\\"}}]}')
    return ('{"Resources": {"Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {\n'
            '  "DashboardBody": {"Fn::Sub": "' + body + '"}}}}}\n')


def _hcl(metrics: str) -> str:
    return ('resource "aws_cloudwatch_dashboard" "main" {\n  dashboard_name = "ops"\n  dashboard_body = jsonencode({\n'
            '    widgets = [{\n      type = "metric"\n      properties = {\n        metrics = [\n          '
            + metrics + '\n        ]\n        region = "us-east-1"\n      }\n    }]\n  })\n}\n')


def _ts(metrics: str) -> str:
    return ("new aws.cloudwatch.Dashboard('ops', {\n  dashboardBody: JSON.stringify({\n    widgets: [{\n"
            "      type: 'metric',\n      properties: {\n        metrics: [\n          " + metrics +
            "\n        ],\n      },\n    }],\n  }),\n});\n")


def _py(metrics: str) -> str:
    return ("aws.cloudwatch.Dashboard('ops', dashboard_body=json.dumps({\n    'widgets': [{\n        'type': 'metric',\n"
            "        'properties': {\n            'metrics': [\n                " + metrics +
            "\n            ],\n        },\n    }],\n}))\n")


CASES = [
    # CloudFormation YAML: a JSON body in `!Sub |`, placeholders substituted before parsing
    ({"lib/TapStack.yml": _cfn_yaml('["AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": "${Asg}"}]')}, 1),
    ({"lib/TapStack.yml": _cfn_yaml('["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", "${Asg}", {"stat": "Average"}]')}, 0),
    ({"lib/TapStack.yml": _cfn_yaml('["AWS/Lambda", "Errors", {"stat": "Sum", "dimensions": {"FunctionName": "${Fn}"}}]')}, 1),
    ({"lib/TapStack.yml": _cfn_yaml('["AWS/Lambda", "Errors", "FunctionName", ${Dimensions}]')}, 0),  # unknown length
    ({"lib/TapStack.yml": _cfn_yaml('["AWS/Lambda", "Errors", {"FunctionName": "${Fn}"}]',
                                    "    Condition: CreateDashboard\n")}, 1),  # a resource Condition is no branch
    ({"lib/TapStack.yml": _if_prod(_cfn_yaml('["AWS/Lambda", "Errors", {"FunctionName": "${Fn}"}]'))}, 0),
    # CloudFormation JSON: an escaped JSON string in Fn::Sub, all on one line
    ({"lib/TapStack.json": _cfn_json('["AWS/Lambda", "Invocations", {"stat": "Sum"}, {"FunctionName": "${Fn}"}]')}, 1),
    ({"lib/TapStack.json": _cfn_json('["AWS/Lambda", "Invocations", "FunctionName", "${Fn}", {"stat": "Sum"}]')}, 0),
    ({"lib/TapStack.json": _cfn_json('[{"expression": "m1/m2", "id": "e1"}], ["AWS/Lambda", "Errors", {"id": "m1"}]')}, 0),
    ({"lib/TapStack.json": _cfn_json('[{"expression": "m1/m2", "id": "e1"}, "AWS/Lambda"]')}, 1),
    # Terraform: jsonencode keeps the body structured
    ({"lib/main.tf": _hcl('["AWS/Lambda", "Errors", { FunctionName = aws_lambda_function.f.function_name }]')}, 1),
    ({"lib/main.tf": _hcl('["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.f.function_name]')}, 0),
    ({"lib/main.tf": _hcl('["AWS/Lambda", "Errors", "FunctionName"]')}, 1),  # a dimension name without value
    ({"lib/main.tf": _hcl('[".", "Errors", ".", "."]')}, 0),  # shorthand repeats the entry above
    # TypeScript (Pulumi / CDKTF / CfnDashboard): the object literal given to JSON.stringify
    ({"lib/tap-stack.ts": _ts("['AWS/RDS', 'CPUUtilization', { DBClusterIdentifier: clusterId }],")}, 1),
    ({"lib/tap-stack.ts": _ts("['AWS/RDS', 'CPUUtilization', 'DBClusterIdentifier', clusterId],")}, 0),
    ({"lib/tap-stack.ts": _ts("['AWS/RDS', 'CPUUtilization', 'DBClusterIdentifier', clusterId, options],")}, 0),
    ({"lib/tap-stack.ts": _ts("['AWS/RDS', 'CPUUtilization', ...dimensions],")}, 0),  # a spread: unknown
    ({"lib/tap-stack.ts": _ts("isProd ? ['AWS/RDS', 'CPUUtilization', { stat: 'Sum' }, { DBClusterIdentifier: id }]"
                              " : ['AWS/RDS', 'CPUUtilization'],")}, 0),  # only in a conditional branch
    ({"lib/tap-stack.ts": _ts("// ['AWS/RDS', 'CPUUtilization', { DBClusterIdentifier: clusterId }],\n"
                              "          ['AWS/RDS', 'CPUUtilization'],")}, 0),  # a comment is no code
    ({"lib/tap-stack.ts": _ts("...fns.map((fn) => ['AWS/Lambda', 'Errors', { FunctionName: fn }]),")}, 1),
    ({"lib/tap-stack.ts": "dashboard.addWidgets(new cloudwatch.GraphWidget({ title: 'Errors', left: [fn.metricErrors()] }));\n"
                          "const w = { type: 'metric', properties: { metrics: ['AWS/Lambda', 'Errors'] } };\n"}, 0),
    # Python: the dict given to json.dumps
    ({"lib/tap_stack.py": _py("['AWS/Lambda', 'Errors', {'stat': 'Sum'}, {'FunctionName': fn.function_name}],")}, 1),
    ({"lib/tap_stack.py": _py("['AWS/Lambda', 'Errors', 'FunctionName', fn.function_name, {'stat': 'Sum'}],")}, 0),
    ({"lib/tap_stack.py": _py("['AWS/Lambda'],")}, 1),  # no metric name
    ({"lib/tap_stack.py": ("body = f'{{\"widgets\": [{{\"type\": \"metric\", \"properties\": {{\"metrics\": [[\"AWS/Lambda\", "
                          "\"Errors\", {{\"FunctionName\": \"{fn.function_name}\"}}]]}}}}]}}'\n")}, 1),  # an f-string body
    ({"lib/tap-stack.ts": ("const body = `{\"widgets\": [{\"type\": \"metric\", \"properties\": {\"metrics\": "
                          "[[\"AWS/Lambda\", \"Errors\", \"FunctionName\", \"${fn.functionName}\"]]}}]}`;\n")}, 0),
    ({"lib/tap_stack.py": "description = 'never write [\"AWS/Lambda\", \"Errors\", {\"FunctionName\": \"f\"}]'\n"}, 0),
]


@pytest.mark.parametrize("files,fires", CASES, ids=[f"{next(iter(c[0]))}-{i}" for i, c in enumerate(CASES)])
def test_dashboard_metric_shape(files, fires):
    review = review_files(files)
    assert not review.errors, review.errors
    hits = [f for f in review.findings if f.rule == "MF414"]
    assert len(hits) == fires, hits
    text = next(iter(files.values())).split("\n")
    assert all("AWS/" in text[h.line - 1] for h in hits)  # the line of the metric (a one-line JSON body: its line)


def test_one_finding_per_dashboard_names_the_resource_and_counts_the_rest():
    metrics = ('["AWS/Lambda", "Invocations", {"FunctionName": "${Fn}"}],\n                '
               '[".", "Errors", {"FunctionName": "${Fn}"}],\n                [".", "Throttles", {"FunctionName": "${Fn}"}]')
    hits = [f for f in review_files({"lib/TapStack.yml": _cfn_yaml(metrics)}).findings if f.rule == "MF414"]
    assert len(hits) == 1 and str(hits[0].level) == "error"
    message = hits[0].message
    assert "`AWS::CloudWatch::Dashboard Dashboard`" in message and "`FunctionName`" in message
    assert "2 more such metrics in this dashboard" in message


def test_other_widget_shapes_are_not_metric_arrays():
    explorer = _hcl('{ metricName = "CPUUtilization", resourceType = "AWS::EC2::Instance" }').replace(
        'type = "metric"', 'type = "explorer"')
    assert not [f for f in review_files({"lib/main.tf": explorer}).findings if f.rule == "MF414"]
    metric_stat = _hcl('{ metricStat = { metric = { namespace = "AWS/EC2", metricName = "CPUUtilization" } } }')
    hits = [f for f in review_files({"lib/main.tf": metric_stat}).findings if f.rule == "MF414"]
    assert len(hits) == 1 and "metricStat" in hits[0].message


def test_heredoc_and_join_bodies():
    heredoc = ('resource "aws_cloudwatch_dashboard" "main" {\n  dashboard_name = "ops"\n  dashboard_body = <<EOF\n'
               '{"widgets": [{"type": "metric", "properties": {\n'
               '  "metrics": [["AWS/SQS", "NumberOfMessagesSent", {"QueueName": "${aws_sqs_queue.q.name}"}]]}}]}\nEOF\n}\n')
    assert [f.line for f in review_files({"lib/main.tf": heredoc}).findings if f.rule == "MF414"] == [5]
    loop = heredoc.replace('"metrics"', '%{ for q in var.queues }"metrics"%{ endfor }')
    assert not [f for f in review_files({"lib/main.tf": loop}).findings if f.rule == "MF414"]
    join = ('{"Resources": {"D": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": {"Fn::Join": ["", [\n'
            '  "{\\"widgets\\": [{\\"type\\": \\"metric\\", \\"properties\\": {\\"metrics\\": [[\\"AWS/SQS\\", \\"Sent\\", '
            '{\\"QueueName\\": \\"", {"Fn::GetAtt": ["Q", "QueueName"]}, "\\"}]]}}]}"]]}}}}}\n')
    assert [f.line for f in review_files({"lib/TapStack.json": join}).findings if f.rule == "MF414"] == [2]
