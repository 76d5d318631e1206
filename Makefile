# go-dsynth: the two set-up commands are `make demo` and `make test`.
# Both install what they need (Debian packages) first.

GO       ?= go
BIN      := bin/dsynth
DEMO_DIR ?= $(CURDIR)/.demo

# DEMO_PKGS is what `make demo` needs: BSD make to scan the ports tree, and
# the C compiler, patch and xz the demo's ports build with; python3 prints
# the report's counts.
DEMO_PKGS := bmake gcc libc6-dev xz-utils patch python3
# TEST_PKGS is what the tests use on top of that (each test that needs one
# of them skips, naming the package, when it is missing): jot for the real
# FreeBSD tree's makefiles, Berkeley DB 1.85 for the ports_crc.db tests, ps
# for testdata/ports/selftest.sh, Chromium for the report and dashboard
# pages, promtool for the alert rules, mandoc for the man pages, signify-openbsd
# for the repository's manifest signatures, Node.js for npm (axe-core, below).
TEST_PKGS := $(DEMO_PKGS) athena-jot libdb1-compat procps chromium prometheus mandoc signify-openbsd nodejs

# make install: the binary and the man pages under PREFIX (DESTDIR for
# staging, as packagers use it).
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man

.PHONY: all build deps deps-demo deps-test deps-axe apt-install demo test check fmt-check vet race fuzz cross bench install uninstall clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/dsynth

# deps-demo and deps-test install the Debian packages the demo and the tests
# use, when missing (as root, or through sudo).
deps-demo:
	@$(MAKE) --no-print-directory apt-install PKGS="$(DEMO_PKGS)"

deps-test:
	@$(MAKE) --no-print-directory apt-install PKGS="$(TEST_PKGS)"

# deps-axe installs axe-core, the dashboard's accessibility checker, from
# the lockfile in dashboard/testdata/axe (npm ci; node_modules is not
# committed). Debian's npm is installed when no npm is on the PATH.
deps-axe: deps-test
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory apt-install PKGS="npm"
	cd dashboard/testdata/axe && npm ci --no-audit --no-fund --loglevel=error

# deps is deps-test, which covers the demo too.
deps: deps-test

apt-install:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# demo runs go-dsynth on the project's own small ports tree (testdata/ports).
demo: deps-demo build
	@scripts/demo.sh $(DEMO_DIR)

# test is what CI runs: formatting, vet, the race-enabled test suite, every
# fuzz target for a bounded time and the cross-builds (cross).
test: deps-test deps-axe fmt-check vet race fuzz cross

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

# cross vets the build backends' systems and Windows (whose code sits behind
# build tags) and builds a representative pair of each other family: the
# BSDs and macOS, illumos, AIX, a 32-bit Linux (int sizes in syscall
# structs) and a non-amd64 BSD. Every pair of `go tool dist list` builds
# except js/wasm, wasip1/wasm and plan9 (bbolt has no port there, see
# README "Platforms"); ios and android but arm64 need cgo to link a program.
cross:
	GOOS=freebsd GOARCH=amd64 $(GO) vet ./...
	GOOS=dragonfly GOARCH=amd64 $(GO) vet ./...
	GOOS=windows GOARCH=amd64 $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=netbsd GOARCH=amd64 $(GO) build ./...
	GOOS=openbsd GOARCH=amd64 $(GO) build ./...
	GOOS=illumos GOARCH=amd64 $(GO) build ./...
	GOOS=aix GOARCH=ppc64 $(GO) build ./...
	GOOS=linux GOARCH=386 $(GO) build ./...
	GOOS=freebsd GOARCH=arm64 $(GO) build ./...

# bench measures everything BENCHMARKS.md reports, with baselines from the
# same run.
bench: deps-test build
	scripts/bench.sh > BENCHMARKS.md.new && mv BENCHMARKS.md.new BENCHMARKS.md

# install builds bin/dsynth only when it does not exist, so that `make build`
# as the user who has Go and `make install` as root work.
install:
	@[ -x $(BIN) ] || $(MAKE) --no-print-directory build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/dsynth
	install -m 0644 docs/man/dsynth.1 $(DESTDIR)$(MANDIR)/man1/dsynth.1
	install -m 0644 docs/man/dsynth.ini.5 $(DESTDIR)$(MANDIR)/man5/dsynth.ini.5

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/dsynth $(DESTDIR)$(MANDIR)/man1/dsynth.1 $(DESTDIR)$(MANDIR)/man5/dsynth.ini.5

clean:
	rm -rf bin $(DEMO_DIR)
