# taskapi: thin entry points; each target calls one script in scripts/.
#   make run        the whole system locally (Ctrl-C stops it)
#   make test       every test, then again under ASan/UBSan
#   make test-unit  unit tests only (no database)
#   make build      build/ only
#   make fuzz       every libFuzzer target for FUZZ_SECONDS (300) each, two at
#                   a time, in build-fuzz/ (FUZZ_TARGETS="json rpc" for some)
#   make clean      remove build/, build-asan/ and build-fuzz/ (never the
#                   make run data)
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
