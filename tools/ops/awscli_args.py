"""The options every AWS ops tool takes (--stack, --region,
--endpoint-url) and the Deployment they name, with one-line errors."""

import os
import sys


def add(ap):
    ap.add_argument("--stack", default=os.environ.get("STACK") or "taskapi",
                    help="project name of the stacks ecs/deploy.sh made "
                    "(default taskapi: taskapi-ecr, -network, -data, -app)")
    ap.add_argument("--region", default=None,
                    help="default AWS_REGION, AWS_DEFAULT_REGION, profile")
    ap.add_argument("--endpoint-url", default=None,
                    help="every AWS call goes there (default "
                    "AWS_ENDPOINT_URL)")


def deployment(a, prog):
    """The Deployment of a's options, or exits 2 naming what is missing."""
    from awsdeploy import Deployment, have_boto3
    if not have_boto3():
        sys.exit("%s: error: boto3 is not installed (scripts/deps.sh "
                 "installs it)" % prog)
    try:
        dep = Deployment(a.stack, a.region, a.endpoint_url)
    except RuntimeError as e:
        sys.exit("%s: error: %s" % (prog, e))
    if not dep.has_credentials():
        sys.exit("%s: error: no AWS credentials (profile, environment or "
                 "SSO)" % prog)
    return dep


def run(main, prog):
    """main()'s exit status; an AWS error ends it with one line, not a
    traceback (exit status 1)."""
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        return main()
    except (BotoCoreError, ClientError) as e:
        sys.stderr.write("%s: error: %s\n" % (prog, e))
        return 1
