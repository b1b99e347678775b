#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make mutants: do the tests see the bugs they are meant to see?
#
# Each scripts/mutants/NAME.patch is one deliberate bug in the series' code
# (a patch against the assembled tree). For each, in turn: apply it to a
# worktree of the assembled tree ($CACHE/mutant/linux), build the debug kernel
# there (build variant "mutant", its own build directory, incremental), boot it
# with test_signal (the kselftest) and the rust_kernel_cgroup KUnit suite run
# again over real cgroups, then with make stress's program for
# MUTANT_STRESS_SECONDS (default 60) if test_signal missed it (MUTANT_STRESS=
# always runs both), and record which suite failed. A race too narrow for a
# test to hit on demand has the same bug in make test's protocol model:
# scripts/mutants/NAME.model names that model scenario and case, which must
# find its counterexample; it is consulted only if the kernel suites missed
# the mutant, and counted apart ("model-only"). Ends with a table
# (out/mutants/table.txt) and one line
#   mutants: N caught, K caught by the model only, M missed
# and fails if any mutant was missed by every suite.
#   make mutants [MUTANTS="name ..."]
. "$(dirname "$0")/lib.sh"

MAIN_TREE=$TREE
W=$CACHE/mutant/linux
head=$(git -C "$MAIN_TREE" rev-parse HEAD)
if [[ ! -e $W/.git ]]; then
	git -C "$MAIN_TREE" worktree prune
	mkdir -p "$(dirname "$W")"
	git -C "$MAIN_TREE" worktree add -q --detach "$W" "$head"
fi
git -C "$W" checkout -q -f --detach "$head"
git -C "$W" clean -q -fd

B=$CACHE/build/stress
mkdir -p "$B"
gcc -O2 -Wall -Wextra -Wno-unused-parameter -pthread -o "$B/cgsig_stress" \
	"$ROOT/stress/cgsig_stress.c"

mapfile -t all < <(cd "$ROOT/scripts/mutants" && ls -- *.patch | sed 's/\.patch$//')
read -r -a names <<<"${MUTANTS:-${all[*]}}"
M=$OUT/mutants
rm -rf "$M"
mkdir -p "$M"
rows=() caught=0 model=0 missed=0
for m in "${names[@]}"; do
	p=$ROOT/scripts/mutants/$m.patch
	[[ -f $p ]] || die "no mutant $m (scripts/mutants/$m.patch)"
	git -C "$W" apply "$p" || die "mutant $m does not apply to the series"
	log "mutant $m: building"
	if ! CGSIG_TREE=$W "$ROOT/scripts/build.sh" mutant >"$M/$m.build.log" 2>&1; then
		git -C "$W" checkout -q -- .
		tail -20 "$M/$m.build.log" >&2
		die "mutant $m does not build"
	fi
	git -C "$W" checkout -q -- .

	verdicts=() hit=0
	R=$M/$m/test
	mkdir -p "$R"
	log "mutant $m: test_signal"
	"$ROOT/scripts/vm.sh" "$OUT/bzImage-mutant" "$R" \
		test "$CACHE/build/selftests" test_signal
	if python3 "$ROOT/scripts/report.py" "$R" --kselftest test_signal \
		--kunit rust_kernel_cgroup --kunit-rerun rust_kernel_cgroup >"$R/report.txt"; then
		verdicts+=("test:missed")
	else
		verdicts+=("test:CAUGHT") hit=1
	fi
	mode=${MUTANT_STRESS:-auto}
	if [[ $mode == always || ($mode == auto && $hit == 0) ]]; then
		R=$M/$m/stress
		mkdir -p "$R"
		log "mutant $m: stress"
		"$ROOT/scripts/vm.sh" "$OUT/bzImage-mutant" "$R" \
			--env STRESS_SECONDS="${MUTANT_STRESS_SECONDS:-60}" stress "$B/cgsig_stress"
		if python3 "$ROOT/scripts/stress_report.py" "$R" >"$R/report.txt"; then
			verdicts+=("stress:missed")
		else
			verdicts+=("stress:CAUGHT") hit=1
		fi
	else
		verdicts+=("stress:not-run")
	fi
	if ((hit)); then
		caught=$((caught + 1))
	elif [[ -f $ROOT/scripts/mutants/$m.model ]]; then
		# "SCENARIO CASE": the model's scenario, and its case that must pass
		# (ok = the counterexample was found). It does not run the mutant
		# kernel, only the same bug written into the model: counted apart.
		read -r scenario mcase <"$ROOT/scripts/mutants/$m.model"
		log "mutant $m: model case $mcase"
		CARGO_TARGET_DIR=$CACHE/build/model "$ROOT/model/run-tests.sh" "$scenario" \
			>"$M/$m/model.tap" 2>"$M/$m/model.log" || true
		if grep -qx "ok [0-9]* $mcase" "$M/$m/model.tap"; then
			verdicts+=("model-only:CAUGHT") model=$((model + 1))
		else
			verdicts+=("model:missed") missed=$((missed + 1))
		fi
	else
		missed=$((missed + 1))
	fi
	rows+=("$(printf '%-30s %s' "$m" "${verdicts[*]}")")
	log "mutant $m: ${verdicts[*]}"
done
{
	printf '%-30s %s\n' mutant "suites (CAUGHT = the suite failed)"
	printf '%s\n' "${rows[@]}"
	echo "mutants: $caught caught, $model caught by the model only, $missed missed"
} | tee "$M/table.txt"
((missed == 0)) || die "a mutant went unnoticed by every suite"
