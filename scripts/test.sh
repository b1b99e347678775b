#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test (after make's set-up, base, assemble, build and selftests steps):
# one boot of the debug kernel that runs every kselftest, collects the KUnit
# results and the kernel log, then the host suites, and ends in one line
# "N passed, N failed[, N skipped]".
. "$(dirname "$0")/lib.sh"

# Suites whose absence from the boot log is a failure.
KUNIT_SUITES=(rust_doctests_kernel rust_kernel_cgroup cgroup_signal)

t2=$(now)

R=$OUT/test
rm -rf "$R"
mkdir -p "$R"
mapfile -t tests <"$CACHE/build/selftests/list"
log "booting out/bzImage and running: ${tests[*]} (TCG; several minutes)"
env_args=(--env RETRY_ONCE=test_freezer)
[[ -v TEST_TIMEOUT ]] && env_args+=(--env "TEST_TIMEOUT=$TEST_TIMEOUT")
# The userspace crate's program for the VM (make userspace) runs after them.
env_args+=(--env "USERSPACE_VMTEST=$CACHE/build/userspace/release/cgsignal-vmtest")
"$ROOT/scripts/vm.sh" "$OUT/bzImage" "$R" "${env_args[@]}" \
	test "$CACHE/build/selftests" "${tests[@]}"
t3=$(now)

echo "timings: $(phase_times)boot+tests $((t3 - t2))s; results in out/test/"
echo "kernel: $(head -1 "$OUT/bzImage.version")"
# Host suites, counted like kselftests: report.py's own accounting on made-up
# results (host_report_selftest), and the exhaustive loom model of the fork
# protocol (model: KTAP on stdout, its statistics in model.log).
st=0
python3 "$ROOT/scripts/test_report.py" >"$R/host_report_selftest.tap" 2>&1 || st=$?
echo "$st" >"$R/host_report_selftest.rc"
t4=$(now)
st=0
CARGO_TARGET_DIR=$CACHE/build/model "$ROOT/model/run-tests.sh" >"$R/model.tap" 2>"$R/model.log" || st=$?
echo "$st" >"$R/model.rc"
log "model: $(grep -c '^ok' "$R/model.tap") of $(sed -n 's/^1\.\.//p' "$R/model.tap") cases ok in $(($(now) - t4))s"
# The userspace crate (userspace/): its unit and doc tests, one TAP case per
# libtest result, and its style gates, one case each.
t5=$(now)
st=0
(cd "$ROOT/userspace" && CARGO_TARGET_DIR=$CACHE/build/userspace \
	cargo test --quiet --locked --workspace --no-fail-fast -- --format=pretty) >"$R/userspace-test.log" 2>&1 || st=$?
# "test NAME ... ok|FAILED|ignored[, reason]"; --no-fail-fast: every binary runs.
awk '/^test .* \.\.\. (ok|FAILED|ignored(, .*)?)$/ {
	n++; name = $0; sub(/^test /, "", name); sub(/ \.\.\. (ok|FAILED|ignored.*)$/, "", name)
	if ($0 ~ / \.\.\. ok$/) r[n] = "ok " n " " name
	else if ($0 ~ / \.\.\. ignored/) r[n] = "ok " n " " name " # SKIP ignored"
	else r[n] = "not ok " n " " name
} END { print "1.." n; for (i = 1; i <= n; i++) print r[i] }' "$R/userspace-test.log" >"$R/userspace_unit.tap"
echo "$st" >"$R/userspace_unit.rc"
st=0
{
	echo "1..2"
	(cd "$ROOT/userspace" && cargo fmt --all --check) >"$R/userspace-fmt.log" 2>&1 &&
		echo "ok 1 cargo fmt --check" || { echo "not ok 1 cargo fmt --check"; st=1; }
	(cd "$ROOT/userspace" && CARGO_TARGET_DIR=$CACHE/build/userspace \
		cargo clippy --quiet --locked --workspace --all-targets -- -D warnings) \
		>"$R/userspace-clippy.log" 2>&1 &&
		echo "ok 2 cargo clippy --all-targets -- -D warnings" ||
		{ echo "not ok 2 cargo clippy --all-targets -- -D warnings"; st=1; }
} >"$R/userspace_style.tap"
echo "$st" >"$R/userspace_style.rc"
log "userspace: $(grep -c '^ok' "$R/userspace_unit.tap") of $(sed -n 's/^1\.\.//p' "$R/userspace_unit.tap") unit tests ok, style $(grep -c '^ok' "$R/userspace_style.tap")/2 in $(($(now) - t5))s"
# The report is kept (out/test/report.txt) for the cover letter of make series.
python3 "$ROOT/scripts/report.py" "$R" --kselftest "${tests[@]}" cgsignal-vmtest host_report_selftest model \
	userspace_unit userspace_style \
	--kunit "${KUNIT_SUITES[@]}" --kunit-rerun rust_kernel_cgroup |
	tee "$R/report.txt"
