# go-dsynth: the two set-up commands are `make demo` and `make test`.
# Both install what they need (Debian packages) first.

GO       ?= go
BIN      := bin/dsynth
DEMO_DIR ?= $(CURDIR)/.demo
APT_PKGS := bmake athena-jot libdb1-compat gcc libc6-dev xz-utils patch procps python3 chromium prometheus

.PHONY: all build deps demo test check fmt-check vet race fuzz cross bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/dsynth

# deps installs the host tools the tests and the demo use, when missing.
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# demo runs go-dsynth on the project's own small ports tree (testdata/ports).
demo: deps build
	@scripts/demo.sh $(DEMO_DIR)

# test is what CI runs: formatting, vet, the race-enabled test suite, every
# fuzz target for a bounded time and the BSD cross-builds.
test: deps fmt-check vet race fuzz cross

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

race:
	$(GO) test -race -timeout 25m ./...

# fuzz runs each Go fuzz target (scripts/fuzz.sh lists them) for a bounded
# number of executions; FUZZTIME=3m (or 500000x) digs deeper.
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

cross:
	GOOS=freebsd GOARCH=amd64 $(GO) build ./...
	GOOS=dragonfly GOARCH=amd64 $(GO) build ./...
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=netbsd GOARCH=amd64 $(GO) build ./...
	GOOS=openbsd GOARCH=amd64 $(GO) build ./...

# bench measures everything BENCHMARKS.md reports, with baselines from the
# same run.
bench: deps build
	scripts/bench.sh > BENCHMARKS.md.new && mv BENCHMARKS.md.new BENCHMARKS.md

clean:
	rm -rf bin $(DEMO_DIR)
