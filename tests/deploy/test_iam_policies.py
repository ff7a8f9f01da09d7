"""iam-policies/*.json are the execution role's trust and permission
policies of ecs/data.yaml (the stack that holds the role), identical once the template is rendered with the
placeholders (<REGION>, <ACCOUNT_ID>, <PROJECT>, <DB_SECRET_ARN>, ...)."""
import copy
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfnlib  # noqa: E402

POLICY_DIR = os.path.join(cfnlib.SOURCE_DIR, "iam-policies")


def template_documents(tpl):
    role = cfnlib.of_type(tpl, "AWS::IAM::Role")
    docs = {}
    for name, r in role.items():
        props = cfnlib.Renderer(tpl).render(r["Properties"])
        docs[name] = {
            "ecs-task-execution-trust.json": props["AssumeRolePolicyDocument"],
            "ecs-task-execution-policy.json":
                props["Policies"][0]["PolicyDocument"],
        }
    return docs


def differences(tpl):
    """Files whose JSON differs from the template's documents."""
    docs = template_documents(tpl)
    if list(docs) != ["ExecutionRole"]:
        return ["expected exactly one role, ExecutionRole: %s" % list(docs)]
    bad = []
    for fname, doc in docs["ExecutionRole"].items():
        with open(os.path.join(POLICY_DIR, fname)) as f:
            if json.load(f) != doc:
                bad.append(fname)
    return bad


class IamPolicies(unittest.TestCase):
    def setUp(self):
        self.tpl = cfnlib.load_merged()

    def test_standalone_files_equal_template(self):
        self.assertEqual(differences(self.tpl), [])

    def test_no_other_policy_files(self):
        files = sorted(f for f in os.listdir(POLICY_DIR) if f.endswith(".json"))
        self.assertEqual(files, ["ecs-task-execution-policy.json",
                                 "ecs-task-execution-trust.json"])

    def test_least_privilege_shape(self):
        doc = template_documents(self.tpl)["ExecutionRole"]
        trust = doc["ecs-task-execution-trust.json"]["Statement"]
        self.assertEqual(trust[0]["Principal"],
                         {"Service": "ecs-tasks.amazonaws.com"})
        stmts = doc["ecs-task-execution-policy.json"]["Statement"]
        for s in stmts:
            acts = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            self.assertFalse(any("*" in a for a in acts), s)
            if s["Resource"] == "*":
                self.assertEqual(acts, ["ecr:GetAuthorizationToken"])
        secrets = [s for s in stmts if "secretsmanager:GetSecretValue" in
                   json.dumps(s["Action"])]
        self.assertEqual(secrets[0]["Resource"],
                         ["<DB_SECRET_ARN>", "<JWT_SECRET_ARN>",
                          "<RPC_AUTH_KEY_SECRET_ARN>"])
        self.assertNotIn("kms:", json.dumps(stmts))
        # Pulls from other accounts: only GuardDuty's agent repository.
        for st in stmts:
            res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for arn in res:
                if ":*:" in arn:
                    self.assertTrue(arn.endswith(":repository/aws-guardduty-agent-fargate"), arn)
        self.assertEqual(cfnlib.of_type(self.tpl, "AWS::IAM::Policy"), {})
        for td in cfnlib.of_type(self.tpl, "AWS::ECS::TaskDefinition").values():
            self.assertNotIn("TaskRoleArn", td["Properties"])

    def test_detects_a_changed_template(self):
        # Broken on purpose: a third secret ARN in the template only.
        tpl = copy.deepcopy(self.tpl)
        pol = tpl["Resources"]["ExecutionRole"]["Properties"]["Policies"][0]
        next(st for st in pol["PolicyDocument"]["Statement"]
             if st["Sid"] == "Secrets")["Resource"].append("*")
        self.assertEqual(differences(tpl), ["ecs-task-execution-policy.json"])
        tpl = copy.deepcopy(self.tpl)
        trust = tpl["Resources"]["ExecutionRole"]["Properties"]
        del trust["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
        self.assertEqual(differences(tpl), ["ecs-task-execution-trust.json"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
