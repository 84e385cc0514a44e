# kiln.kaniko: the lab cluster, the demo and the test tiers.
PYTHON ?= python3
LAB := $(PYTHON) tests/lab/lab.py

.PHONY: lab-up lab-nodes lab-down lab-env lab-status lab-build lab-smoke nodes

lab-up:        ## build (first time) and start the lab cluster (one node unless lab-nodes said more); idempotent
	$(LAB) up

lab-nodes:     ## the lab with N nodes (NODES=3): workers added to or taken from a running lab in seconds
	$(LAB) up --nodes $(or $(NODES),3)

lab-down:      ## stop everything the lab started; cached builds stay in ~/.cache/kiln
	$(LAB) down

lab-env:       ## print the variables that point tools and tests at the lab
	@$(LAB) env

lab-status:    ## say what runs; exit 0 only when node, registry and git server answer
	@$(LAB) status

lab-build:     ## build or reuse the lab's binaries and images without starting anything
	$(LAB) build

lab-smoke:     ## the lab's own pytest suite, on the running lab
	bash scripts/lab-smoke.sh

nodes:         ## the tests of builds across nodes and of a node lost, on a lab grown to three nodes
	bash scripts/nodes.sh

.PHONY: sanity units units-lowest units-2.21

sanity:        ## ansible-test sanity on a fresh copy of the collection (venv in ~/.cache/kiln)
	bash scripts/sanity.sh

units:         ## ansible-test units (pytest, no cluster) on a fresh copy of the collection
	bash scripts/units.sh

units-lowest:  ## units and sanity on the lowest ansible-core meta/runtime.yml claims (venv-lowest in ~/.cache/kiln)
	KILN_CORE=lowest bash scripts/units.sh
	KILN_CORE=lowest bash scripts/sanity.sh

units-2.21:    ## units and sanity on ansible-core 2.21, in a Debian trixie root with Python 3.13 (lab.py root)
	KILN_CORE=2.21 bash scripts/units.sh
	KILN_CORE=2.21 bash scripts/sanity.sh

.PHONY: test integration k8s-pairs

test:          ## the whole suite: sanity, units, lab up, lab smoke, integration, lab down
	bash scripts/test.sh

integration:   ## ansible-test integration on the running lab (make lab-up first)
	bash scripts/integration.sh

k8s-pairs:     ## the integration smoke on the lowest and the newest kubernetes client and kubernetes.core (running lab)
	bash scripts/k8s-pairs.sh

.PHONY: demo lint docs package ee

demo:          ## the demo: lab up, DockerCoins built and run by kiln.kaniko.lab, a summary with digests
	bash scripts/demo.sh

lint:          ## yamllint, ansible-lint (production profile), changelog lint, ruff, mypy, docs up to date, antsibull-docs lint (tools venv in ~/.cache/kiln)
	bash scripts/lint.sh

# The pages from `ansible-doc` of a staged copy of the git-tracked files; scripts/lint.sh checks them with --check.
docs: SHELL := /bin/bash
docs:          ## regenerate docs/modules, docs/roles, docs/filters and docs/reference.md from ansible-doc
	. scripts/tools-env.sh && kiln_tools_stage && ANSIBLE_COLLECTIONS_PATH=$$KILN_TOOLS_TREE ANSIBLE_NOCOLOR=1 \
	    "$$KILN_TOOLS/bin/python" scripts/render_docs.py docs

package:       ## galaxy build, galaxy-importer, install into an empty path, run kiln.kaniko.build from there on the lab (if up)
	bash scripts/package.sh

ee:            ## the execution environment's build context (ansible-builder create); no container engine needed
	bash scripts/ee.sh
