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

# The stack's status, or NONE when there is no such stack.
stack_status() {
	local st
	st=$(awsc cloudformation describe-stacks --stack-name "$1" \
	    --query 'Stacks[0].StackStatus' --output text 2>/dev/null) || st=NONE
	printf '%s\n' "${st:-NONE}"
}

# A new account may not have the ECS service-linked role yet; ECS creates it
# on first use, but not always before CloudFormation's first service call
# ("Unable to assume the service linked role"). Creating it is idempotent
# in effect: "has been taken" means another caller made it first.
ensure_ecs_service_linked_role() {
	local out
	# By its path (/aws-service-role/ecs.amazonaws.com/), not its name.
	out=$(awsc iam list-roles --path-prefix /aws-service-role/ecs.amazonaws.com/ \
	    --query 'length(Roles)' --output text 2>/dev/null) || out=0
	[ "${out:-0}" != 0 ] && return 0
	say "creating the ECS service-linked role (AWSServiceRoleForECS)"
	if ! out=$(awsc iam create-service-linked-role \
	    --aws-service-name ecs.amazonaws.com 2>&1); then
		case $out in
		*"has been taken"*|*EntityAlreadyExists*) ;;
		*) printf '%s\n' "$out" >&2
		   die "cannot create the ECS service-linked role (iam:CreateServiceLinkedRole)" ;;
		esac
	fi
}

# A stack in a state `cloudformation deploy` cannot update: wait for one in
# progress; delete one whose first create failed (ROLLBACK_COMPLETE: nothing
# of it exists any more, and it can only be deleted); refuse the rest.
# prepare_stack STACK TIMEOUT_S; returns 1 (with a message) when it cannot.
# PREPARE_SLEEP_S (default 15) between looks at a stack in progress.
prepare_stack() {
	local stack=$1 status deadline=$(( $(date +%s) + $2 ))
	while :; do
		status=$(stack_status "$stack")
		case $status in
		REVIEW_IN_PROGRESS)
			# A change set made but never run: deploy creates anew.
			return 0 ;;
		*_IN_PROGRESS)
			if [ "$(date +%s)" -ge "$deadline" ]; then
				say "stack $stack still $status after $2 s"
				return 1
			fi
			say "stack $stack is $status: waiting"
			sleep "${PREPARE_SLEEP_S:-15}" ;;
		ROLLBACK_COMPLETE|ROLLBACK_FAILED)
			say "stack $stack is $status (its first create failed): deleting it to create it again"
			stack_failures "$stack"
			awsc cloudformation delete-stack --stack-name "$stack" &&
			    awsc cloudformation wait stack-delete-complete --stack-name "$stack" ||
			    { say "stack $stack was not deleted"; return 1; }
			return 0 ;;
		DELETE_FAILED|UPDATE_ROLLBACK_FAILED)
			say "stack $stack is $status: fix it by hand (see its events) and run again"
			return 1 ;;
		*) return 0 ;;
		esac
	done
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
	# Every container by name: GuardDuty may add a sidecar to each task.
	awsc ecs describe-tasks --cluster "$cluster" --tasks $arns \
	    --query 'tasks[].[group,lastStatus,stoppedReason,join(`; `, containers[].join(`=`, [name, to_string(exitCode), to_string(reason)]))]' \
	    --output text >&2 2>/dev/null || true
}

# resource_exists ARN: 0 if the resource still exists, 1 if its own service
# says it is gone. The Resource Groups Tagging API keeps listing resources
# for a while after they were deleted, so teardown confirms each ARN here.
# An answer that is neither (access denied, an unknown type) counts as
# "exists": better a false alarm than a forgotten, billed resource.
resource_exists() {
	local arn=$1 service rest id out
	service=$(printf '%s' "$arn" | cut -d: -f3)
	rest=$(printf '%s' "$arn" | cut -d: -f6-)
	id=${rest#*/}
	case $service:$rest in
	ec2:vpc-endpoint/*)
		out=$(awsc ec2 describe-vpc-endpoints --vpc-endpoint-ids "$id" \
		    --query 'VpcEndpoints[0].State' --output text 2>&1) ;;
	ec2:natgateway/*)
		out=$(awsc ec2 describe-nat-gateways --nat-gateway-ids "$id" \
		    --query 'NatGateways[0].State' --output text 2>&1) ;;
	ec2:vpc/*) out=$(awsc ec2 describe-vpcs --vpc-ids "$id" --output text 2>&1) ;;
	ec2:subnet/*) out=$(awsc ec2 describe-subnets --subnet-ids "$id" --output text 2>&1) ;;
	ec2:security-group/*) out=$(awsc ec2 describe-security-groups --group-ids "$id" --output text 2>&1) ;;
	ec2:route-table/*) out=$(awsc ec2 describe-route-tables --route-table-ids "$id" --output text 2>&1) ;;
	ec2:internet-gateway/*) out=$(awsc ec2 describe-internet-gateways --internet-gateway-ids "$id" --output text 2>&1) ;;
	ec2:elastic-ip/*) out=$(awsc ec2 describe-addresses --allocation-ids "$id" --output text 2>&1) ;;
	ecs:cluster/*)
		out=$(awsc ecs describe-clusters --clusters "$arn" \
		    --query 'clusters[0].status' --output text 2>&1) ;;
	ecs:service/*)
		out=$(awsc ecs describe-services --cluster "$(printf '%s' "$id" | cut -d/ -f1)" \
		    --services "$arn" --query 'services[0].status' --output text 2>&1) ;;
	ecs:task-definition/*)
		out=$(awsc ecs describe-task-definition --task-definition "$arn" \
		    --query 'taskDefinition.status' --output text 2>&1) ;;
	rds:db:*) out=$(awsc rds describe-db-instances --db-instance-identifier "${rest#db:}" \
		    --query 'DBInstances[0].DBInstanceStatus' --output text 2>&1) ;;
	rds:subgrp:*) out=$(awsc rds describe-db-subnet-groups --db-subnet-group-name "${rest#subgrp:}" --output text 2>&1) ;;
	rds:pg:*) out=$(awsc rds describe-db-parameter-groups --db-parameter-group-name "${rest#pg:}" --output text 2>&1) ;;
	rds:snapshot:*) out=$(awsc rds describe-db-snapshots --db-snapshot-identifier "${rest#snapshot:}" --output text 2>&1) ;;
	secretsmanager:*)
		out=$(awsc secretsmanager describe-secret --secret-id "$arn" \
		    --query 'DeletedDate' --output text 2>&1)
		[ $? -eq 0 ] && [ "$out" != None ] && return 1 ;;
	logs:log-group:*)
		id=${rest#log-group:}
		id=${id%:\*}
		out=$(awsc logs describe-log-groups --log-group-name-prefix "$id" \
		    --query "logGroups[?logGroupName=='$id'] | [0].logGroupName" --output text 2>&1)
		[ "$out" = None ] && return 1 ;;
	elasticloadbalancing:loadbalancer/*)
		out=$(awsc elbv2 describe-load-balancers --load-balancer-arns "$arn" --output text 2>&1) ;;
	elasticloadbalancing:targetgroup/*)
		out=$(awsc elbv2 describe-target-groups --target-group-arns "$arn" --output text 2>&1) ;;
	servicediscovery:namespace/*) out=$(awsc servicediscovery get-namespace --id "$id" --output text 2>&1) ;;
	servicediscovery:service/*) out=$(awsc servicediscovery get-service --id "$id" --output text 2>&1) ;;
	sns:*) out=$(awsc sns get-topic-attributes --topic-arn "$arn" --output text 2>&1) ;;
	cloudwatch:alarm:*)
		out=$(awsc cloudwatch describe-alarms --alarm-names "${rest#alarm:}" \
		    --query 'MetricAlarms[0].AlarmName || CompositeAlarms[0].AlarmName' --output text 2>&1)
		[ "$out" = None ] && return 1 ;;
	ecr:repository/*) out=$(awsc ecr describe-repositories --repository-names "$id" --output text 2>&1) ;;
	*) return 0 ;;
	esac
	case $out in
	*NotFound*|*"does not exist"*|*"not found"*|*NoSuch*|*InvalidGroup.NotFound*|\
	*deleted*|*INACTIVE*|*DELETE_IN_PROGRESS*|*DELETED*|*Deleted*|*deleting*)
		return 1 ;;
	*) return 0 ;;
	esac
}

# public_health URL [CONNECT_TO]: GET URL until it answers 200, HEALTH_TRIES
# times (default 30), HEALTH_SLEEP_S apart (default 10). CONNECT_TO
# (host:port:address:port, curl --connect-to) sends the connection
# elsewhere while TLS still verifies the URL's host name: the certificate's
# name, checked at the load balancer before DNS points there.
public_health() {
	local url=$1 args=(-fsS --max-time 5 -o /dev/null)
	[ -n "${2:-}" ] && args+=(--connect-to "$2")
	for _ in $(seq 1 "${HEALTH_TRIES:-30}"); do
		curl "${args[@]}" "$url" 2>/dev/null && return 0
		sleep "${HEALTH_SLEEP_S:-10}"
	done
	return 1
}

# redirects_to_https URL: answers 301 with an https:// Location.
redirects_to_https() {
	local got
	got=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' \
	    "$1" 2>/dev/null) || return 1
	case $got in 301\ https://*) return 0 ;; esac
	say "$1 answered: $got"
	return 1
}

# check_name DOMAIN PROJECT: a host name the certificate for DOMAIN covers
# (a wildcard certificate gets a label of ours in front).
check_name() {
	case $1 in
	'*.'*) printf '%s-deploy-check.%s\n' "$2" "${1#\*.}" ;;
	*) printf '%s\n' "$1" ;;
	esac
}
