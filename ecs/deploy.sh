#!/usr/bin/env bash
# make deploy: taskapi on ECS Fargate in one command, AWS CLI only.
#
#   1. checks the caller's identity and region (aws sts get-caller-identity)
#      and that the ECS service-linked role exists (a new account may lack
#      it: "Unable to assume the service linked role"), creating it if not;
#   2. deploys the ECR stack (<project>-ecr, ecs/ecr.yaml);
#   3. builds the images Docker-less (ecs/build-images.sh) and pushes each
#      with skopeo, tagged with the project version, unless ECR already has
#      that tag (repositories are IMMUTABLE); then checks every tag exists;
#   4. lints the templates offline (cfn-lint);
#   5. deploys the network stack (<project>-network, ecs/network.yaml)
#      unless --vpc-id/--public-subnets/--private-subnets name an existing
#      VPC;
#   6. deploys the data stack (<project>-data, ecs/data.yaml): database,
#      secrets, security groups, logs, role, cluster, namespace, and the
#      migrate task definition of this version;
#   7. runs the migrations as a one-off Fargate task and checks its exit
#      code (the migrate container's, found by name: GuardDuty may add a
#      sidecar);
#   8. deploys the application stack (<project>-app, ecs/app.yaml): the
#      services start only now, against a migrated database;
#   9. waits until every service's PRIMARY deployment is COMPLETED (CFN can
#      report success although ECS rolled back);
#  10. calls the public /health and prints the URL. With a certificate it
#      checks https://<domain>/health with TLS verification against the
#      load balancer's address (--domain-name, else the certificate's own
#      name: no certificate covers the *.elb.amazonaws.com name), and that
#      port 80 redirects to it.
# `ecs/deploy.sh --plan` prints these steps, in order, one per line (the
# rehearsal, tests/rehearsal/, plays them).
# A stack whose first create failed (ROLLBACK_COMPLETE) cannot be updated:
# it is deleted and created again. On any failure: the failed stack events
# and the stopped tasks' reasons.
#
# Usage: ecs/deploy.sh [options]
#   --project NAME        resource name prefix (default taskapi)
#   --region REGION       default: AWS_REGION, AWS_DEFAULT_REGION, profile
#   --endpoint-url URL    every AWS call goes there (default AWS_ENDPOINT_URL)
#   --version V           image tag (default: the CMake project version)
#   --vpc-id ID --public-subnets A,B --private-subnets C,D
#                         use an existing VPC instead of the network stack
#   --egress endpoints|nat   network stack: VPC endpoints (default) or NAT
#   --certificate-arn ARN HTTPS on 443, 80 redirects
#   --domain-name NAME    the name the certificate covers and DNS will point
#                         at the load balancer (default: the certificate's
#                         domain name; a wildcard gets a label in front)
#   --db-engine-version N PostgreSQL major version (default: the template's)
#   --alarm-email ADDR    subscribe an address to the alarm topic
#   --bin-dir DIR         built binaries for the images (default build/bin)
#   --skip-images         do not build or push (the tags must exist in ECR)
#   --skip-lint           do not run cfn-lint
#   --skip-migrate --skip-rollout --skip-health
#                         skip steps 7, 9, 10 (for emulators that cannot run
#                         tasks; never needed on AWS)
#   --plan                print the steps and exit (no AWS call)
#   --timeout S           rollout and health wait, seconds (default 1200)
set -euo pipefail
PROG=deploy
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROJECT=taskapi
REGION=
ENDPOINT_URL=${AWS_ENDPOINT_URL:-}
VERSION=
VPC_ID='' PUBLIC_SUBNETS='' PRIVATE_SUBNETS=''
EGRESS=endpoints
CERT_ARN=
DOMAIN=
DB_VERSION=
ALARM_EMAIL=
BIN_DIR=$ROOT/build/bin
SKIP_IMAGES=0 SKIP_LINT=0 SKIP_MIGRATE=0 SKIP_ROLLOUT=0 SKIP_HEALTH=0
PLAN_ONLY=0
# The order of the deployment. The database and its schema come before any
# service: a worker never starts against an empty database, and a failed
# services stack never takes the database with it.
PLAN=("stack ecr" "images" "lint" "stack network" "stack data" "migrate"
    "stack app" "rollout" "health")
TIMEOUT=1200
while [ $# -gt 0 ]; do
	case $1 in
	--project) PROJECT=$2; shift 2 ;;
	--region) REGION=$2; shift 2 ;;
	--endpoint-url) ENDPOINT_URL=$2; shift 2 ;;
	--version) VERSION=$2; shift 2 ;;
	--vpc-id) VPC_ID=$2; shift 2 ;;
	--public-subnets) PUBLIC_SUBNETS=$2; shift 2 ;;
	--private-subnets) PRIVATE_SUBNETS=$2; shift 2 ;;
	--egress) EGRESS=$2; shift 2 ;;
	--certificate-arn) CERT_ARN=$2; shift 2 ;;
	--domain-name) DOMAIN=$2; shift 2 ;;
	--db-engine-version) DB_VERSION=$2; shift 2 ;;
	--alarm-email) ALARM_EMAIL=$2; shift 2 ;;
	--bin-dir) BIN_DIR=$2; shift 2 ;;
	--skip-images) SKIP_IMAGES=1; shift ;;
	--skip-lint) SKIP_LINT=1; shift ;;
	--skip-migrate) SKIP_MIGRATE=1; shift ;;
	--skip-rollout) SKIP_ROLLOUT=1; shift ;;
	--skip-health) SKIP_HEALTH=1; shift ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--plan) PLAN_ONLY=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
if [ -n "$VPC_ID$PUBLIC_SUBNETS$PRIVATE_SUBNETS" ] &&
    { [ -z "$VPC_ID" ] || [ -z "$PUBLIC_SUBNETS" ] || [ -z "$PRIVATE_SUBNETS" ]; }; then
	die "--vpc-id, --public-subnets and --private-subnets go together"
fi
if [ "$PLAN_ONLY" -eq 1 ]; then
	printf '%s\n' "${PLAN[@]}"
	exit 0
fi
[ -n "$VERSION" ] || VERSION=$(sed -n 's/^project(taskapi VERSION \([0-9.]*\).*/\1/p' "$ROOT/CMakeLists.txt")
[ -n "$VERSION" ] || die "no version: pass --version"
command -v aws >/dev/null || die "the AWS CLI (aws) is required"

ECR_STACK=$PROJECT-ecr
NET_STACK=$PROJECT-network
DATA_STACK=$PROJECT-data
APP_STACK=$PROJECT-app
CLUSTER=$PROJECT-cluster
SERVICES=(edge-api auth-svc task-svc)
touched=()
tmp=$(mktemp -d "${TMPDIR:-/tmp}/taskapi-deploy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Any failure from here on prints what AWS knows about it.
fail() {
	say "FAILED: $*"
	local s
	for s in "${touched[@]}"; do stack_failures "$s"; done
	stopped_tasks "$CLUSTER"
	exit 1
}

# cfn_deploy STACK TEMPLATE [parameter overrides...]
cfn_deploy() {
	local stack=$1 template=$2 size
	shift 2
	touched+=("$stack")
	prepare_stack "$stack" "$TIMEOUT" || fail "stack $stack cannot be deployed"
	size=$(wc -c <"$template")
	# Inline templates are limited to 51,200 bytes (beyond: --s3-bucket).
	[ "$size" -le 51200 ] || fail "$template is $size bytes, over the 51,200 inline limit"
	say "deploying stack $stack ($template)"
	if ! awsc cloudformation deploy --stack-name "$stack" --template-file "$template" \
	    --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM \
	    --no-fail-on-empty-changeset --tags "project=$PROJECT" \
	    --parameter-overrides "$@" >"$tmp/deploy.out" 2>&1; then
		cat "$tmp/deploy.out" >&2
		# Some endpoints reject an empty change set outright instead of
		# creating a FAILED one that --no-fail-on-empty-changeset accepts.
		grep -q 'No updates are to be performed' "$tmp/deploy.out" ||
		    fail "stack $stack did not deploy"
		say "stack $stack: no changes"
	else
		cat "$tmp/deploy.out" >&2
	fi
}

# ---- 1. who and where
resolve_region
check_identity
ensure_ecs_service_linked_role

# ---- 2. registries
cfn_deploy "$ECR_STACK" "$ECS_DIR/ecr.yaml" "Project=$PROJECT"
declare -A URI
URI[edge-api]=$(stack_output "$ECR_STACK" EdgeRepositoryUri)
URI[auth-svc]=$(stack_output "$ECR_STACK" AuthRepositoryUri)
URI[task-svc]=$(stack_output "$ECR_STACK" TaskRepositoryUri)
for s in "${SERVICES[@]}"; do
	# Stack outputs first; the repository itself when an output is missing
	# (emulators that do not render outputs).
	case ${URI[$s]} in ""|None)
		URI[$s]=$(awsc ecr describe-repositories --repository-names "$PROJECT/$s" \
		    --query 'repositories[0].repositoryUri' --output text) ||
		    fail "stack $ECR_STACK made no repository $PROJECT/$s" ;;
	esac
done

# ---- 3. images, tagged $VERSION, pushed once
tag_exists() {
	awsc ecr describe-images --repository-name "$PROJECT/$1" \
	    --image-ids "imageTag=$VERSION" >/dev/null 2>&1
}
to_push=()
for s in "${SERVICES[@]}"; do
	if tag_exists "$s"; then
		say "$PROJECT/$s:$VERSION already in ECR: not pushed again (immutable tags)"
	else
		to_push+=("$s")
	fi
done
if [ ${#to_push[@]} -gt 0 ] && [ "$SKIP_IMAGES" -eq 0 ]; then
	command -v skopeo >/dev/null || die "skopeo missing: run scripts/deps.d/images.sh"
	# The task definitions run linux/amd64; an arm64 build would stop
	# every task with "exec format error".
	[ "$(dpkg --print-architecture)" = amd64 ] ||
	    die "images must be built on amd64 (this machine: $(dpkg --print-architecture))"
	layout=$("$ECS_DIR/build-images.sh" --bin-dir "$BIN_DIR" \
	    --services "$(IFS=,; echo "${to_push[*]}")") || fail "image build failed"
	registry=${URI[edge-api]%%/*}
	# The password goes from the CLI to skopeo through a pipe, never argv.
	awsc ecr get-login-password |
	    skopeo login --authfile "$tmp/auth.json" --username AWS \
	    --password-stdin "$registry" >/dev/null ||
	    fail "cannot log in to $registry"
	for s in "${to_push[@]}"; do
		say "pushing $s to ${URI[$s]}:$VERSION"
		skopeo copy --authfile "$tmp/auth.json" --dest-tls-verify=true \
		    "oci:$layout:$s" "docker://${URI[$s]}:$VERSION" >&2 ||
		    fail "push of $s failed"
	done
fi
for s in "${SERVICES[@]}"; do
	tag_exists "$s" || fail "$PROJECT/$s:$VERSION is not in ECR (build and push it, or drop --skip-images)"
done

# ---- 4. lint, offline
if [ "$SKIP_LINT" -eq 0 ]; then
	command -v cfn-lint >/dev/null || die "cfn-lint missing: pip install cfn-lint (or --skip-lint)"
	say "cfn-lint ecs/*.yaml"
	cfn-lint "$ECS_DIR"/*.yaml >&2 || fail "cfn-lint reported problems"
fi

# ---- 5. network
if [ -z "$VPC_ID" ]; then
	cfn_deploy "$NET_STACK" "$ECS_DIR/network.yaml" "Project=$PROJECT" "EgressMode=$EGRESS"
	VPC_ID=$(stack_output "$NET_STACK" VpcId)
	PUBLIC_SUBNETS=$(stack_output "$NET_STACK" PublicSubnetIds)
	PRIVATE_SUBNETS=$(stack_output "$NET_STACK" PrivateSubnetIds)
fi

# ---- 6. data: database, secrets, groups, logs, role, cluster, namespace
data_params=("Project=$PROJECT" "ImageTag=$VERSION" "EcrStackName=$ECR_STACK"
    "VpcId=$VPC_ID" "PrivateSubnetIds=$PRIVATE_SUBNETS")
[ -n "$DB_VERSION" ] && data_params+=("DbEngineVersion=$DB_VERSION")
cfn_deploy "$DATA_STACK" "$ECS_DIR/data.yaml" "${data_params[@]}"
CLUSTER=$(stack_output "$DATA_STACK" ClusterName)

# ---- 7. migrations, one-off task, before any service of this version
if [ "$SKIP_MIGRATE" -eq 0 ]; then
	td=$(stack_output "$DATA_STACK" MigrateTaskDefinitionArn)
	subnets=$(stack_output "$DATA_STACK" PrivateSubnetIds)
	sg=$(stack_output "$DATA_STACK" MigrateSecurityGroupId)
	say "running migrations ($td)"
	task=$(awsc ecs run-task --cluster "$CLUSTER" --task-definition "$td" \
	    --launch-type FARGATE --started-by "$PROJECT-deploy" \
	    --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$sg],assignPublicIp=DISABLED}" \
	    --query 'tasks[0].taskArn' --output text) || fail "run-task of the migrations failed"
	awsc ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$task" ||
	    fail "migration task did not stop"
	# By name: GuardDuty runtime monitoring adds a sidecar container.
	code=$(awsc ecs describe-tasks --cluster "$CLUSTER" --tasks "$task" \
	    --query "tasks[0].containers[?name=='taskapi-migrate'] | [0].exitCode" \
	    --output text)
	[ "$code" = 0 ] || fail "migrations exited with $code (log group $(stack_output "$DATA_STACK" MigrateLogGroupName))"
	say "migrations applied"
fi

# ---- 8. application: the services, against a migrated database
params=("Project=$PROJECT" "ImageTag=$VERSION" "EcrStackName=$ECR_STACK"
    "DataStackName=$DATA_STACK" "VpcId=$VPC_ID"
    "PublicSubnetIds=$PUBLIC_SUBNETS" "PrivateSubnetIds=$PRIVATE_SUBNETS"
    "CertificateArn=$CERT_ARN" "AlarmEmail=$ALARM_EMAIL")
cfn_deploy "$APP_STACK" "$ECS_DIR/app.yaml" "${params[@]}"
API_URL=$(stack_output "$APP_STACK" ApiUrl)
LB_DNS=$(stack_output "$APP_STACK" LoadBalancerDnsName)

# ---- 9. every service rolled out
if [ "$SKIP_ROLLOUT" -eq 0 ]; then
	names=()
	for k in EdgeServiceName AuthServiceName TaskServiceName; do
		names+=("$(stack_output "$APP_STACK" "$k")")
	done
	deadline=$(( $(date +%s) + TIMEOUT ))
	while :; do
		states=$(awsc ecs describe-services --cluster "$CLUSTER" --services "${names[@]}" \
		    --query "services[].[serviceName, deployments[?status=='PRIMARY'] | [0].rolloutState]" \
		    --output text)
		say "rollout: $(echo "$states" | tr '\t\n' '= ')"
		echo "$states" | grep -q FAILED && fail "a deployment FAILED (circuit breaker rolled back)"
		[ "$(echo "$states" | grep -c 'COMPLETED$')" -eq ${#names[@]} ] && break
		[ "$(date +%s)" -lt "$deadline" ] || fail "services not COMPLETED after $TIMEOUT s"
		sleep 15
	done
fi

# ---- 10. the public health check
if [ "$SKIP_HEALTH" -eq 0 ]; then
	if [ -z "$CERT_ARN" ]; then
		public_health "$API_URL/health" || fail "$API_URL/health does not answer 200"
	else
		# No certificate covers the load balancer's own name: ask for the
		# certificate's name and send the connection to the load balancer.
		if [ -z "$DOMAIN" ]; then
			DOMAIN=$(awsc acm describe-certificate --certificate-arn "$CERT_ARN" \
			    --query 'Certificate.DomainName' --output text) ||
			    fail "cannot read the certificate's domain name (pass --domain-name)"
		fi
		DOMAIN=$(check_name "$DOMAIN" "$PROJECT")
		say "checking https://$DOMAIN/health at $LB_DNS"
		public_health "https://$DOMAIN/health" "$DOMAIN:443:$LB_DNS:443" ||
		    fail "https://$DOMAIN/health (at $LB_DNS) does not answer 200"
		redirects_to_https "http://$LB_DNS/health" ||
		    fail "port 80 of $LB_DNS does not redirect to HTTPS"
		API_URL="https://$DOMAIN"
	fi
fi
say "deployed taskapi $VERSION"
echo "$API_URL"
