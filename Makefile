# One entry point for people and CI. `make test` on a fresh Debian machine installs everything
# (virtualenv, Python packages, test apiserver binaries), runs every suite, and ends with each stage's
# wall time and the slowest tests (scripts/run_stages.py).
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export TEST_RESULTS_DIR := $(CURDIR)/.test-results
# Each integration worker starts a test bed of its own; tests of one file stay on one worker.
# Three workers on two cores: a worker waiting on an emulated Azure operation leaves its core to another.
INTEGRATION_WORKERS ?= 3

.PHONY: test bootstrap sanity lint unit integration molecule molecule-syntax-kind bench

# Stages joined by "+" run at the same time: sanity and lint each keep one core busy, unit mostly waits.
test: bootstrap
	$(VENV)/bin/python scripts/run_stages.py sanity+lint+unit integration molecule+molecule-syntax-kind

bootstrap:
	bash scripts/bootstrap.sh

sanity:
	bash scripts/sanity.sh

lint:
	ansible-lint --profile production
	antsibull-changelog lint

# pytest exits 5 when it collected nothing: scripts/pytest.sh turns that into a failure
unit:
	bash scripts/pytest.sh tests/unit --junitxml=$(TEST_RESULTS_DIR)/unit.xml

integration:
	bash scripts/pytest.sh tests/integration -n $(INTEGRATION_WORKERS) --dist loadfile --no-loadscope-reorder --junitxml=$(TEST_RESULTS_DIR)/integration.xml

# Two scenarios at a time, each with a bed of its own; each scenario's output is printed whole when it ends.
MOLECULE_SCENARIOS := $(sort $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
molecule:
	$(MAKE) --no-print-directory -j2 --output-sync=target $(addprefix molecule-scenario-,$(MOLECULE_SCENARIOS))

molecule-scenario-%:
	molecule test -s $*

molecule-syntax-kind:
	AIPLATFORM_MOLECULE_PLATFORM=kind molecule syntax --all

# Timings live here, never in tests: see benchmarks/README.md
bench: bootstrap
	$(VENV)/bin/python -m benchmarks.bench_k8s_apply --objects 50
