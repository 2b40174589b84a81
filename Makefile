# One entry point for people and CI. `make test` on a fresh Debian machine installs everything
# (virtualenv, Python packages, test apiserver binaries) and runs every suite.
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
PYTEST := $(VENV)/bin/python -m pytest

.PHONY: test bootstrap sanity lint unit integration molecule molecule-syntax-kind bench

test: bootstrap sanity lint unit integration molecule molecule-syntax-kind

bootstrap:
	bash scripts/bootstrap.sh

sanity:
	bash scripts/sanity.sh

lint:
	ansible-lint --profile production

# pytest exits 5 when it collected nothing: scripts/pytest.sh turns that into a failure
unit:
	bash scripts/pytest.sh tests/unit

integration:
	bash scripts/pytest.sh tests/integration

molecule:
	molecule test --all

molecule-syntax-kind:
	AIPLATFORM_MOLECULE_PLATFORM=kind molecule syntax --all

# Timings live here, never in tests: see benchmarks/README.md
bench: bootstrap
	$(VENV)/bin/python -m benchmarks.bench_k8s_apply --objects 50
