# taskapi: thin entry points; each target calls one script in scripts/.
#   make run        the whole system locally (Ctrl-C stops it)
#   make test       every test, then again under ASan/UBSan
#   make test-unit  unit tests only (no database)
#   make build      build/ only
#   make fuzz       every libFuzzer target for FUZZ_SECONDS (300) each, two at
#                   a time, in build-fuzz/ (FUZZ_TARGETS="json rpc" for some)
#   make clean      remove build/, build-asan/ and build-fuzz/ (never the
#                   make run data)
#   make verify BASE_URL=...    black-box check of a running API, PASS/FAIL
#                   table; STACK=taskapi REGION=... add the AWS checks
#   make loadtest BASE_URL=... [DURATION=10m] [RATE=50] [MIX=...]
#                   ramped load, table and plot in build/loadtest/
#   make inventory | make status [STACK=taskapi]   resources; service state
#   make logs SERVICE=edge|auth|task [SINCE=10m] [FOLLOW=1]
#                   (all five: scripts/ops.sh, tools/ops/, docs/deploy.md)
# ARGS are passed to ctest, e.g. make test ARGS="-R migrate".

.PHONY: run test test-unit build clean bench rehearse fuzz

run:
	AUTH="$(AUTH)" TASK="$(TASK)" scripts/run.sh

test:
	scripts/test.sh $(ARGS)

test-unit:
	scripts/test.sh --unit $(ARGS)

# The ECS deployment played on this machine from the templates
# (docs/rehearsal.md); needs root. ARGS go to ctest, e.g. ARGS="-R scale".
rehearse:
	scripts/rehearse.sh $(ARGS)

# Throughput of the main endpoints as ratios to GET /health (bench/bench.py).
bench:
	scripts/bench.sh

build:
	scripts/deps.sh
	scripts/build.sh build edge-api auth-svc task-svc taskapi-migrate

# The libFuzzer targets (docs/fuzzing.md); new inputs and crashes land in
# build-fuzz/fuzz-out/<target>/. FUZZ_SECONDS and FUZZ_JOBS are read there.
fuzz:
	scripts/deps.sh
	scripts/fuzz.sh run $(FUZZ_TARGETS)

clean:
	rm -rf build build-asan build-fuzz

# AWS ECS Fargate (docs/deploy.md): ARGS are passed to the script, e.g.
# make deploy ARGS="--region eu-west-1 --certificate-arn arn:aws:acm:...".
.PHONY: deploy teardown
deploy:
	scripts/deps.sh
	scripts/deps.d/images.sh
	scripts/build.sh build edge-api auth-svc task-svc taskapi-migrate
	ecs/deploy.sh $(ARGS)

teardown:
	ecs/teardown.sh $(ARGS)

# Operations against any deployment or make run (docs/deploy.md
# "Operating it"); the variables are read by scripts/ops.sh.
.PHONY: verify loadtest inventory status logs
verify loadtest inventory status logs:
	BASE_URL="$(BASE_URL)" STACK="$(STACK)" REGION="$(REGION)" \
	DURATION="$(DURATION)" RATE="$(RATE)" MIX="$(MIX)" OUT="$(OUT)" \
	SAMPLE="$(SAMPLE)" SERVICE="$(SERVICE)" SINCE="$(SINCE)" \
	FOLLOW="$(FOLLOW)" scripts/ops.sh $@ $(ARGS)
