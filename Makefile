# taskapi: thin entry points; each target calls one script in scripts/.
#   make run        the whole system locally (Ctrl-C stops it)
#   make test       every test, then again under ASan/UBSan
#   make test-unit  unit tests only (no database)
#   make build      build/ only
#   make clean      remove build/ and build-asan/ (never the make run data)
# ARGS are passed to ctest, e.g. make test ARGS="-R migrate".

.PHONY: run test test-unit build clean

run:
	scripts/run.sh

test:
	scripts/test.sh $(ARGS)

test-unit:
	scripts/test.sh --unit $(ARGS)

build:
	scripts/deps.sh
	scripts/build.sh build

clean:
	rm -rf build build-asan
