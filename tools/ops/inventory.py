#!/usr/bin/env python3
"""make inventory: every resource of the deployed stacks of a project
(<project>-ecr, -network, -data, -app; or the one stack --stack names
exactly) as a Markdown table: stack, type, logical ID, physical ID or ARN.
Redirect it to keep a resource inventory:
  make inventory > resource-inventory.md
Exit status 1 when no stack of the project exists."""

import argparse
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import awscli_args                  # noqa: E402
from table import markdown_table    # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    awscli_args.add(ap)
    a = ap.parse_args(argv)
    dep = awscli_args.deployment(a, "inventory")
    stacks = dep.stacks()
    if not stacks:
        # Not a project: maybe the exact name of one stack.
        cfn = dep.client("cloudformation")
        try:
            st = cfn.describe_stacks(StackName=a.stack)["Stacks"][0]
            stacks = {a.stack: st}
        except cfn.exceptions.ClientError:
            pass
    if not stacks:
        print("inventory: no stack %s found in %s"
              % (" / ".join(dep.stack_names()), dep.region), file=sys.stderr)
        return 1
    now = datetime.datetime.now(datetime.timezone.utc)
    print("# Resource inventory: %s (%s)\n" % (a.stack, dep.region))
    print("Generated %s by `make inventory`.\n"
          % now.strftime("%Y-%m-%d %H:%M UTC"))
    print(markdown_table(("stack", "status", "created"),
                         [(n, s["StackStatus"],
                           s["CreationTime"].strftime("%Y-%m-%d %H:%M"))
                          for n, s in stacks.items()]))
    rows = []
    for name in stacks:
        for rtype, logical, physical in sorted(dep.stack_resources(name)):
            rows.append((name, rtype, logical, physical or "-"))
    print()
    print(markdown_table(("stack", "type", "logical ID",
                          "physical ID or ARN"), rows))
    print("\n%d resources in %d stacks." % (len(rows), len(stacks)))
    return 0


if __name__ == "__main__":
    sys.exit(awscli_args.run(main, "inventory"))
