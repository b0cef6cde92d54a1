# Sourced by tests/cli/test_*.sh. Provides BIN, TD (project testdata), SH (shared testdata,
# may be empty), T (scratch dir) and assertions that print PASS/FAIL lines for tests/run.sh.
BIN=${TH_BIN:?run through tests/run.sh}; TD=${TH_TESTDATA}; SH=${TH_SHARED:-}; T=${TH_TMP:?}
_case=${0##*/}
pass() { echo "PASS $_case:$1"; }
fail() { echo "FAIL $_case:$1: $2"; }
skip() { echo "SKIP $_case:$1: $2"; }
# run CMD...: runs it, sets $rc, $out (stdout), $err (stderr)
run() { "$@" >"$T/.out" 2>"$T/.err"; rc=$?; out=$(cat "$T/.out"); err=$(cat "$T/.err"); }
# expect NAME CODE CMD...: exit status must be CODE
expect() { n=$1 c=$2; shift 2; run "$@"; if [ "$rc" = "$c" ]; then pass "$n"; else fail "$n" "exit $rc, wanted $c: $(head -c 300 "$T/.err")"; fi; }
# expect_err NAME CODE REGEX CMD...: exit CODE, stderr exactly one line matching REGEX
expect_err() {
    n=$1 c=$2 re=$3; shift 3; run "$@"
    lines=$(grep -c '' "$T/.err")
    if [ "$rc" != "$c" ]; then fail "$n" "exit $rc, wanted $c: $(head -c 300 "$T/.err")"
    elif [ "$lines" != 1 ]; then fail "$n" "stderr has $lines lines, wanted 1: $(head -c 300 "$T/.err")"
    elif ! grep -Eq -- "$re" "$T/.err"; then fail "$n" "stderr '$(cat "$T/.err")' does not match /$re/"
    else pass "$n"; fi
}
# check NAME COND...: COND is a shell command that must succeed
check() { n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "failed: $*"; fi; }
