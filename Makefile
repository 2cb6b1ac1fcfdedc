# autoreplyd: build, test, install and package. `make help` lists the targets.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOARCH  ?= $(shell go env GOARCH)
export GOARCH

PREFIX  ?= /usr
BINDIR  ?= $(PREFIX)/bin
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR  ?= $(PREFIX)/share/doc/autoreplyd
# Fixed: the unit and the default --config use /etc/autoreplyd.
CONFDIR := /etc/autoreplyd
DESTDIR ?=

# nfpm for `make deb`, installed on demand into bin/tools (v2.44.2: later
# versions need go.digitalxero.dev modules the Go proxy does not serve).
NFPM_VERSION ?= v2.44.2
export NFPM_VERSION

# golangci-lint for `make lint` (config: .golangci.yml) and govulncheck for
# `make vulncheck`, each built once into bin/tools/<name>-<version> with
# `go install` (golangci-lint takes a few minutes on 2 cores) and reused.
GOLANGCI_LINT_VERSION ?= v2.15.0
GOVULNCHECK_VERSION   ?= v1.9.0
GOLANGCI_LINT := bin/tools/golangci-lint-$(GOLANGCI_LINT_VERSION)
GOVULNCHECK   := bin/tools/govulncheck-$(GOVULNCHECK_VERSION)

GO_LDFLAGS := -s -w -X github.com/autoreplyd/autoreplyd/cli.Version=$(VERSION)

.PHONY: help build test lint vulncheck ci install deb clean

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z]+:.*## / { printf "  make %-9s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "  (VERSION=$(VERSION); install honours DESTDIR and PREFIX)"

build: ## bin/autoreplyd, with `autoreplyd version` = git describe
	go build -trimpath -ldflags "$(GO_LDFLAGS)" -o bin/autoreplyd ./cmd/autoreplyd

test: ## go test ./...
	go test ./...

lint: $(GOLANGCI_LINT) ## golangci-lint (.golangci.yml), installed on demand
	$(GOLANGCI_LINT) run ./...

vulncheck: $(GOVULNCHECK) ## govulncheck: needs vuln.go.dev, so not part of CI
	$(GOVULNCHECK) ./...

# go install writes into a scratch GOBIN first, so an interrupted build
# leaves no half-written tool under its final name. GOARCH is emptied: the
# tools run here, whatever architecture a package is built for.
$(GOLANGCI_LINT):
	@echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into bin/tools"
	@mkdir -p bin/tools/tmp
	GOARCH= GOBIN=$(CURDIR)/bin/tools/tmp go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv bin/tools/tmp/golangci-lint $@

$(GOVULNCHECK):
	@echo "installing govulncheck $(GOVULNCHECK_VERSION) into bin/tools"
	@mkdir -p bin/tools/tmp
	GOARCH= GOBIN=$(CURDIR)/bin/tools/tmp go install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	mv bin/tools/tmp/govulncheck $@

ci: ## the whole CI (.ci/run)
	bash .ci/run

# The guides README.md links to, installed beside it under docs/ (as the
# .deb does: packaging/nfpm.yaml).
DOC_FILES = $(shell find docs -name '*.md' | LC_ALL=C sort)

# Never overwrites an operator's config, rules or rules tests: each is copied
# only when absent. Builds bin/autoreplyd first only if it is missing, so
# `make build && sudo make install` needs no Go toolchain as root.
RULES_TEST_SED := s|^rule_files: \[rules.example.yaml\]|rule_files: [rules.yaml]|

install: ## install the binary, unit, example config and rules (DESTDIR, PREFIX)
	@[ -x bin/autoreplyd ] || $(MAKE) --no-print-directory build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR) \
		$(DESTDIR)$(DOCDIR)/examples
	install -d -m 0700 $(DESTDIR)$(CONFDIR)/credentials
	install -m 0755 bin/autoreplyd $(DESTDIR)$(BINDIR)/autoreplyd
	sed 's|/usr/bin/autoreplyd|$(BINDIR)/autoreplyd|g' systemd/autoreplyd.service \
		>$(DESTDIR)$(UNITDIR)/autoreplyd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/autoreplyd.service
	@set -e; d=$(DESTDIR)$(CONFDIR); \
	for pair in config.example.yaml:config.yaml rules.example.yaml:rules.yaml; do \
		src=$${pair%%:*}; dst=$$d/$${pair#*:}; \
		if [ -e "$$dst" ]; then echo "keeping $$dst"; \
		else echo "install -m 0644 $$src $$dst"; install -m 0644 "$$src" "$$dst"; fi; \
	done; \
	if [ -e "$$d/rules.test.yaml" ]; then echo "keeping $$d/rules.test.yaml"; \
	else echo "rules.example.test.yaml (testing rules.yaml) -> $$d/rules.test.yaml"; \
		(umask 022; sed '$(RULES_TEST_SED)' rules.example.test.yaml >"$$d/rules.test.yaml"); fi
	install -m 0644 README.md README.zh-CN.md $(DESTDIR)$(DOCDIR)/
	@set -e; for f in $(DOC_FILES); do \
		install -D -m 0644 "$$f" "$(DESTDIR)$(DOCDIR)/$$f"; done
	install -m 0644 config.example.yaml rules.example.yaml rules.example.test.yaml \
		$(DESTDIR)$(DOCDIR)/examples/
	@if [ -z "$(DESTDIR)" ]; then \
		echo "next: secrets in $(CONFDIR)/credentials, then systemctl daemon-reload && systemctl enable --now autoreplyd"; \
		echo "      (docs/operator.md, \"First start\")"; \
	fi

deb: build ## dist/autoreplyd_<version>_<arch>.deb (nfpm; dpkg-deb if nfpm cannot be installed)
	VERSION='$(VERSION)' RULES_TEST_SED='$(RULES_TEST_SED)' sh packaging/build-deb

clean: ## remove bin/ and dist/
	rm -rf bin dist
