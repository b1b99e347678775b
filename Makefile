# SPDX-License-Identifier: GPL-2.0
# cgroup.signal for Linux 7.3, in Rust: entry points. See README.md.
# Every target but help, clean and distclean installs what is missing first:
# setup is the root of the prerequisite graph below.

SHELL := /bin/bash
S := scripts

.PHONY: help setup base assemble writeback build build-bench selftests userspace test run repeat stress stall mutants bench insn series series-check shell check clean distclean

help:
	@echo 'make test       set up, build the debug kernel, boot it, run every test;'
	@echo '                ends with "N passed, N failed"'
	@echo 'make run        set up, build, boot and show echo 9 > cgroup.signal'
	@echo '                ending a live process tree'
	@echo 'make repeat     run test_signal cases N times in one boot (CASES=, N=20;'
	@echo '                default: the cases whose forks race with the write)'
	@echo 'make stress     bounded concurrent stress on the debug kernel'
	@echo '                (STRESS_SECONDS=120); ends with a one-line summary'
	@echo 'make stall      forks and exits outside a 10,000-process walk: held up?'
	@echo 'make mutants    apply each deliberate bug of scripts/mutants/ in turn and'
	@echo '                show which suite (test_signal, stress) catches it'
	@echo 'make bench      benchmark kernel: cgroup.signal vs cgroup.kill vs the'
	@echo '                userspace loops, and what each misses under fork load;'
	@echo '                out/bench/{results.json,table.txt,bench.png,missed.png}'
	@echo 'make insn       kernel instructions per signalled process, by function,'
	@echo '                cgroup.signal vs cgroup.kill (QEMU plugin); out/insn/'
	@echo 'make series     the patch series for review: out/series/ (SIGNOFF="Name <mail>")'
	@echo 'make writeback  write the assembled tree's commits back into series/ and'
	@echo '                the kernel files (after git commit --fixup + rebase there)'
	@echo 'make series-check  apply it with git am on the base, build after each'
	@echo '                patch, checkpatch --strict each patch'
	@echo 'make shell      interactive shell in a VM on the built kernel'
	@echo 'make check      checkpatch --strict, rustfmt, CLIPPY=1 build, rustdoc'
	@echo 'make build      set up and build out/bzImage only'
	@echo 'make setup      install the toolchain and tools (idempotent)'
	@echo 'make clean      remove out/ (the cache stays)'
	@echo 'make distclean  remove out/ and the cache ($${CGROUP_SIGNAL_CACHE:-~/.cache/cgroup-signal})'

# The set-up chain, as make prerequisites: each step once per make run,
# each idempotent and quick when nothing changed, each timed (phase.sh).
P := $(S)/phase.sh

setup:
	@$(P) setup $(S)/setup.sh

base: setup
	@$(P) base $(S)/fetch-base.sh

assemble: base
	@$(P) assemble $(S)/assemble.sh

build: assemble
	@$(P) build $(S)/build.sh test

build-bench: assemble
	@$(P) build-bench $(S)/build.sh bench

selftests: assemble
	@$(P) selftests $(S)/selftests.sh

userspace: setup
	@$(P) userspace $(S)/userspace.sh

writeback: base
	@$(S)/writeback.sh

test: build selftests userspace
	@$(S)/test.sh

run: build userspace
	@$(S)/run.sh

repeat: build selftests
	@$(S)/repeat.sh

stress: build
	@$(S)/stress.sh

stall: build
	@$(S)/stall.sh

mutants: selftests
	@$(S)/mutants.sh

bench: build-bench
	@$(S)/bench.sh

insn: build-bench
	@$(S)/insn.sh

series: assemble
	@$(S)/series.sh

series-check: assemble
	@$(S)/series-check.sh

shell: build
	@$(S)/vm.sh out/bzImage out/shell --interactive

check: assemble
	@$(S)/check.sh

clean:
	rm -rf out

distclean: clean
	. $(S)/lib.sh && rm -rf "$$CACHE"
