#!/usr/bin/env python3
"""make verify: a black-box check of a running taskapi (any deployment, or
make run). Prints a PASS/FAIL/SKIP table and exits 1 on any FAIL, 2 on bad
usage.

  verify.py --base-url URL [--jwt-secret S] [--stack PROJECT --region R]

The API checks (verify_api.py) need only the URL. With --stack (the
project name ecs/deploy.sh used, default stacks <project>-data/-app) and
AWS credentials, the deployment's configuration is checked too
(verify_aws.py). JWT_SECRET in the environment is read when --jwt-secret
is not given; it is only used to sign an expired token and never printed.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from table import text_table          # noqa: E402
from verify_api import PREFIX, ApiChecks  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--jwt-secret", default=os.environ.get("JWT_SECRET"))
    ap.add_argument("--stack", default=os.environ.get("STACK") or None,
                    help="project name of the stacks (e.g. taskapi)")
    ap.add_argument("--region", default=None)
    ap.add_argument("--endpoint-url", default=None)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--oversize", type=int, default=2 * 1024 * 1024,
                    help="bytes of the oversized request (above "
                    "MAX_BODY_BYTES, default 2 MiB)")
    ap.add_argument("--insecure", action="store_true",
                    help="do not verify the TLS certificate")
    a = ap.parse_args(argv)

    results = []

    def record(name, result, detail):
        detail = _JWT.sub("<token>", str(detail))
        results.append((result, name, detail))
        if result == "FAIL":        # at once; the table comes at the end
            sys.stdout.write("FAIL %s: %s\n" % (name, _cut(detail)))
            sys.stdout.flush()

    print("verify: %s" % a.base_url)
    try:
        api = ApiChecks(a.base_url, record, jwt_secret=a.jwt_secret,
                        timeout=a.timeout, oversize=a.oversize,
                        verify_tls=not a.insecure)
    except ValueError as e:
        print("verify: error: %s" % e, file=sys.stderr)
        return 2
    try:
        api.run()
    finally:
        api.cleanup()
    if a.stack:
        aws_part(a, record)

    print()
    print(text_table(("result", "check", "detail"),
                     [(r, n, _cut(d)) for r, n, d in results]))
    fails = [n for r, n, _ in results if r == "FAIL"]
    print()
    rest = [m + " " + t for m, t in api.not_exercised()
            if m not in ("HEAD", "OPTIONS")]
    if rest:
        print("verify: documented operations this run did not call: "
              + ", ".join(rest))
    if not a.jwt_secret:
        print("verify: JWT_SECRET not given: the expired token was signed "
              "with a wrong key, so that check shows only that a bad "
              "signature is refused; give JWT_SECRET=... to check expiry.")
    if api.tasks:
        print("verify: tasks left behind (DELETE failed): %s"
              % ", ".join(map(str, sorted(api.tasks))))
    if api.users:
        print("verify: users created: %s. No route deletes a user; they are "
              "named %s<random> so they can be found (SQL: DELETE FROM users "
              "WHERE username LIKE '%s%%'; their tasks go with them)."
              % (", ".join(api.users), PREFIX,
                 PREFIX.replace("_", "\\_")))
    print("verify: %d passed, %d failed, %d skipped"
          % (sum(1 for r in results if r[0] == "PASS"), len(fails),
             sum(1 for r in results if r[0] == "SKIP")))
    if fails:
        print("verify: FAILED: " + "; ".join(fails))
        return 1
    return 0


def aws_part(a, record):
    from awsdeploy import Deployment, have_boto3
    from verify_aws import AwsChecks
    name = "AWS: checks of stack %s" % a.stack
    if not have_boto3():
        record(name, "FAIL", "boto3 is not installed (scripts/deps.sh)")
        return
    try:
        dep = Deployment(a.stack, a.region, a.endpoint_url)
    except RuntimeError as e:
        record(name, "FAIL", str(e))
        return
    if not dep.has_credentials():
        record(name, "SKIP", "no AWS credentials found")
        return
    AwsChecks(dep, record, a.base_url).run()


# A JWT in an answer (a login's) never reaches the output.
# (also a JWT cut short by the detail's length limit).
_JWT = re.compile(r"eyJ[\w-]*(\.[\w-]*){0,2}")


def _cut(s, n=160):
    s = _JWT.sub("<token>", str(s).replace("\n", " "))
    return s if len(s) <= n else s[:n - 3] + "..."


if __name__ == "__main__":
    sys.exit(main())
