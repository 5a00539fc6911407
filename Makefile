# One task file. `.ci/run` runs `make ci`; `make test` is the README's test command.
.PHONY: ci fmt lint test services build

ci: fmt lint test

fmt:
	cargo fmt --all -- --check

lint:
	cargo clippy --all-targets -- -D warnings

# The tests talk to real PostgreSQL, MariaDB and Redis: make sure they run first.
test: services
	cargo test --all-targets

services:
	bash .ci/services.sh

build:
	cargo build --release
