#!/usr/bin/env bash
# make teardown: removes every resource ecs/deploy.sh made, AWS CLI only.
#
#   1. scales the three services to 0 (auto scaling pinned to 0 first, so it
#      cannot scale them back) and waits until they are stable, so Cloud Map
#      has no registered instance left;
#   2. deletes the application stack, then the data stack (database,
#      secrets, cluster...), then the network stack, then the ECR stack (its
#      repositories emptied first), waiting for each. Before the network
#      stack: the VPC endpoint and security group GuardDuty runtime
#      monitoring adds to a VPC with Fargate tasks (tagged/named
#      GuardDutyManaged), which would keep the VPC from being deleted;
#   3. deletes the log group Container Insights made by itself
#      (/aws/ecs/containerinsights/<cluster>/performance);
#   4. lists anything still tagged project=<project> (exit status 3 if so).
#      The tagging API also lists resources deleted a short while ago, so
#      each ARN it returns is confirmed with its own service's describe
#      call; only those that still exist count.
#
# Usage: ecs/teardown.sh [--project NAME] [--region REGION]
#                        [--endpoint-url URL] [--keep-ecr]
set -euo pipefail
PROG=teardown
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROJECT=taskapi
REGION=
ENDPOINT_URL=${AWS_ENDPOINT_URL:-}
KEEP_ECR=0
while [ $# -gt 0 ]; do
	case $1 in
	--project) PROJECT=$2; shift 2 ;;
	--region) REGION=$2; shift 2 ;;
	--endpoint-url) ENDPOINT_URL=$2; shift 2 ;;
	--keep-ecr) KEEP_ECR=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
command -v aws >/dev/null || die "the AWS CLI (aws) is required"
resolve_region
check_identity

APP_STACK=$PROJECT-app
DATA_STACK=$PROJECT-data
NET_STACK=$PROJECT-network
ECR_STACK=$PROJECT-ecr
CLUSTER=$PROJECT-cluster

delete_stack() {
	local stack=$1
	if ! stack_exists "$stack"; then
		say "stack $stack: not there"
		return 0
	fi
	say "deleting stack $stack"
	awsc cloudformation delete-stack --stack-name "$stack" ||
	    die "delete-stack $stack refused"
	if ! awsc cloudformation wait stack-delete-complete --stack-name "$stack"; then
		stack_failures "$stack"
		die "stack $stack was not deleted"
	fi
}

# GuardDuty runtime monitoring's own VPC endpoint (tag GuardDutyManaged=true)
# and security group (GuardDutyManagedSecurityGroup-<vpc>) in our VPC.
delete_guardduty_leftovers() {
	local vpc=$1 eps sgs left
	eps=$(awsc ec2 describe-vpc-endpoints --filters "Name=vpc-id,Values=$vpc" \
	    "Name=tag:GuardDutyManaged,Values=true" \
	    --query 'VpcEndpoints[?State!=`deleted`].VpcEndpointId' --output text 2>/dev/null) || eps=
	case $eps in ""|None) ;; *)
		say "deleting GuardDuty's VPC endpoint(s) in $vpc: $eps"
		# shellcheck disable=SC2086 # one id per word
		awsc ec2 delete-vpc-endpoints --vpc-endpoint-ids $eps >/dev/null ||
		    say "could not delete $eps"
		for _ in $(seq 1 60); do
			left=$(awsc ec2 describe-vpc-endpoints --filters "Name=vpc-id,Values=$vpc" \
			    "Name=tag:GuardDutyManaged,Values=true" \
			    --query 'VpcEndpoints[?State!=`deleted`].VpcEndpointId' --output text 2>/dev/null) || left=
			case $left in ""|None) break ;; esac
			sleep 5
		done ;;
	esac
	sgs=$(awsc ec2 describe-security-groups --filters "Name=vpc-id,Values=$vpc" \
	    "Name=group-name,Values=GuardDutyManagedSecurityGroup-*" \
	    --query 'SecurityGroups[].GroupId' --output text 2>/dev/null) || sgs=
	for sg in $sgs; do
		[ "$sg" = None ] && continue
		say "deleting GuardDuty's security group $sg"
		# Its endpoint's network interfaces may take a moment to go.
		for _ in $(seq 1 24); do
			awsc ec2 delete-security-group --group-id "$sg" >/dev/null 2>&1 && break
			sleep 5
		done
	done
}

# ---- 1. services to 0
if stack_exists "$DATA_STACK"; then
	c=$(stack_output "$DATA_STACK" ClusterName)
	case $c in ""|None) ;; *) CLUSTER=$c ;; esac
fi
if stack_exists "$APP_STACK"; then
	names=()
	for k in EdgeServiceName AuthServiceName TaskServiceName; do
		n=$(stack_output "$APP_STACK" "$k")
		case $n in ""|None) ;; *) names+=("$n") ;; esac
	done
	for n in "${names[@]}"; do
		say "scaling $n to 0"
		awsc application-autoscaling register-scalable-target \
		    --service-namespace ecs --scalable-dimension ecs:service:DesiredCount \
		    --resource-id "service/$CLUSTER/$n" --min-capacity 0 --max-capacity 0 \
		    >/dev/null 2>&1 || true
		awsc ecs update-service --cluster "$CLUSTER" --service "$n" \
		    --desired-count 0 >/dev/null ||
		    say "could not scale $n (already gone?)"
	done
	if [ ${#names[@]} -gt 0 ]; then
		awsc ecs wait services-stable --cluster "$CLUSTER" --services "${names[@]}" ||
		    say "services not stable yet; deleting anyway"
	fi
fi

# ---- 2. stacks, dependents first
delete_stack "$APP_STACK"
delete_stack "$DATA_STACK"
if stack_exists "$NET_STACK"; then
	vpc=$(stack_output "$NET_STACK" VpcId)
	case $vpc in ""|None) ;; *) delete_guardduty_leftovers "$vpc" ;; esac
fi
delete_stack "$NET_STACK"
if [ "$KEEP_ECR" -eq 0 ]; then
	# The repositories have EmptyOnDelete; emptying them first also works
	# where that is not honoured (older stacks, emulators).
	for s in edge-api auth-svc task-svc; do
		repo=$PROJECT/$s
		ids=$(awsc ecr list-images --repository-name "$repo" \
		    --query 'imageIds[].imageDigest' --output text 2>/dev/null) || continue
		for d in $ids; do
			[ "$d" = None ] && continue
			awsc ecr batch-delete-image --repository-name "$repo" \
			    --image-ids "imageDigest=$d" >/dev/null
		done
		[ -n "$ids" ] && [ "$ids" != None ] && say "emptied repository $repo"
	done
	delete_stack "$ECR_STACK"
fi

# ---- 3. log groups ECS made outside the stack
for g in $(awsc logs describe-log-groups \
    --log-group-name-prefix "/aws/ecs/containerinsights/$CLUSTER/" \
    --query 'logGroups[].logGroupName' --output text); do
	[ "$g" = None ] && continue
	say "deleting log group $g"
	awsc logs delete-log-group --log-group-name "$g"
done

# ---- 4. what survived
left=$(awsc resourcegroupstaggingapi get-resources \
    --tag-filters "Key=project,Values=$PROJECT" \
    --query 'ResourceTagMappingList[].ResourceARN' --output text || echo "(query failed)")
# shellcheck disable=SC2086 # one ARN per word
[ "$KEEP_ECR" -eq 1 ] && left=$(printf '%s\n' $left | grep -v ':repository/' || true)
case $left in "(query failed)") ;; *)
	confirmed=
	for arn in $left; do
		[ "$arn" = None ] && continue
		if resource_exists "$arn"; then
			confirmed="$confirmed $arn"
		else
			say "listed by the tagging API but already deleted: $arn"
		fi
	done
	left=${confirmed# } ;;
esac
if [ -n "$left" ] && [ "$left" != None ]; then
	say "still tagged project=$PROJECT (delete by hand):"
	# shellcheck disable=SC2086 # one ARN per word
	printf '  %s\n' $left >&2
	exit 3
fi
say "nothing tagged project=$PROJECT is left"
