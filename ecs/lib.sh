# shellcheck shell=bash
# Shared by ecs/deploy.sh and ecs/teardown.sh: options every AWS call takes,
# messages, stack helpers. Sourced, never run.
#
# Every AWS call goes through `awsc`, which adds --region and, when set,
# --endpoint-url (the --endpoint-url flag, else AWS_ENDPOINT_URL, which the
# AWS CLI also reads by itself). Tests point it at a loopback emulator.

ECS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$ECS_DIR/.." && pwd)

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

awsc() {
	local args=(--region "$REGION")
	[ -n "${ENDPOINT_URL:-}" ] && args+=(--endpoint-url "$ENDPOINT_URL")
	aws "${args[@]}" "$@"
}

# Region from --region, AWS_REGION, AWS_DEFAULT_REGION or the CLI profile.
resolve_region() {
	REGION=${REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
	[ -n "$REGION" ] || REGION=$(aws configure get region 2>/dev/null || true)
	[ -n "$REGION" ] || die "no region: pass --region or set AWS_REGION"
}

check_identity() {
	local who
	who=$(awsc sts get-caller-identity --query '[Account,Arn]' --output text) ||
	    die "no usable AWS credentials (aws sts get-caller-identity failed)"
	ACCOUNT=$(printf '%s' "$who" | cut -f1)
	say "account $ACCOUNT, identity $(printf '%s' "$who" | cut -f2), region $REGION"
}

stack_exists() {
	awsc cloudformation describe-stacks --stack-name "$1" \
	    --query 'Stacks[0].StackStatus' --output text >/dev/null 2>&1
}

# stack_output STACK KEY
stack_output() {
	awsc cloudformation describe-stacks --stack-name "$1" \
	    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue | [0]" \
	    --output text
}

# The failed events of a stack, newest first (the only evidence left when a
# rollback has deleted the log groups).
stack_failures() {
	say "failed events of stack $1:"
	awsc cloudformation describe-stack-events --stack-name "$1" \
	    --query "StackEvents[?ends_with(ResourceStatus,'FAILED')].[Timestamp,LogicalResourceId,ResourceType,ResourceStatus,ResourceStatusReason]" \
	    --output text 2>/dev/null | head -n 40 >&2 || true
}

# Why the stopped tasks of a cluster stopped.
stopped_tasks() {
	local cluster=$1 arns
	arns=$(awsc ecs list-tasks --cluster "$cluster" --desired-status STOPPED \
	    --query 'taskArns[:20]' --output text 2>/dev/null || true)
	[ -n "$arns" ] && [ "$arns" != None ] || return 0
	say "stopped tasks of $cluster:"
	# shellcheck disable=SC2086
	awsc ecs describe-tasks --cluster "$cluster" --tasks $arns \
	    --query 'tasks[].[group,lastStatus,stoppedReason,containers[0].reason,containers[0].exitCode]' \
	    --output text >&2 2>/dev/null || true
}
