# One task file. `.ci/run` runs `make ci`; `make test` is the README's test command.
.PHONY: ci fmt lint test services build playbooks demo

ci: fmt lint test playbooks

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy --all-targets -- -D warnings

# The tests talk to real PostgreSQL, MariaDB and Redis: make sure they run first.
test: services
	cargo test --all-targets

services:
	bash .ci/services.sh

# Every playbook passes `runbook validate` and an independent JSON Schema validator.
playbooks:
	bash .ci/validate-playbooks.sh

build:
	cargo build --release

# Build, start the Titan simulator, run the pre-market playbook against it, write a signed HTML report.
demo: services
	bash examples/demo.sh
