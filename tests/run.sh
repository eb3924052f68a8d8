#!/usr/bin/env bash
# run.sh BUILD — runs the whole test suite against the binaries in BUILD.
#
#   1. the Check unit tests        BUILD/unit_tests
#   2. golden error tests          tests/errors/NAME.vise  -> stderr must equal NAME.err
#   3. schedule-file error tests   tests/sched_errors/NAME.sched applied to
#                                  tests/sched_errors/model.vise -> stderr must equal
#                                  NAME.err, exit 1, no output file ("# args: ..."
#                                  on a line of its own adds options)
#   4. script tests                tests/cli/*.sh, each run as: script VISEC WORKDIR
#                                  exit 0 = pass, 77 = skipped, anything else = fail
#
# A script test's WORKDIR (tests/work/NAME) is removed when the test passes or
# is skipped, and kept when it fails; VISEC_KEEP_WORK=1 keeps every one.  The
# VisE tests write 0.3-1.4 GB each, and the whole suite would leave 7 GB.
#
# The last line is "tests: N passed, N failed, N skipped".
set -u
build=${1:-build/san}
visec=$build/visec
[ "$build" = build ] && visec=bin/visec
export VISEC=$visec
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
work=tests/work
mkdir -p "$work"
echo "disk: $(df -Ph "$work" | awk 'NR == 2 { print $4 }') free in $work"
pass=0 fail=0 skip=0
failed=()

result() { # name status
    case $2 in
    0) pass=$((pass + 1)) ;;
    77) skip=$((skip + 1)); echo "SKIP: $1" ;;
    *) fail=$((fail + 1)); failed+=("$1"); echo "FAIL: $1" ;;
    esac
}

# golden NAME STATUS OUT EXP: a golden error test passes when its command
# exited with status 1 and wrote exactly the messages in the file EXP.
golden() {
    if [ "$2" -ne 1 ]; then
        echo "$1: exit status $2, expected 1"; result "$1" 1
    elif [ "$3" != "$(cat "$4")" ]; then
        echo "$1: messages differ:"; diff <(cat "$4") <(echo "$3") | head -20; result "$1" 1
    else
        result "$1" 0
    fi
}

echo "== unit tests"
if "$build/unit_tests"; then result unit_tests 0; else result unit_tests 1; fi

echo "== error tests"
for f in tests/errors/*.vise; do
    [ -e "$f" ] || continue
    exp=${f%.vise}.err
    out=$("$visec" check "$f" 2>&1 >/dev/null); st=$?
    golden "$f" $st "$out" "$exp"
done

echo "== schedule-file error tests"
for f in tests/sched_errors/*.sched; do
    [ -e "$f" ] || continue
    exp=${f%.sched}.err
    args=$(sed -n 's/^# args: //p' "$f" | head -1)
    rm -f "$work/sched.out"
    # shellcheck disable=SC2086
    out=$("$visec" schedule tests/sched_errors/model.vise --target x86-64-v4 $args --schedule "$f" \
          -o "$work/sched.out" 2>&1 >/dev/null); st=$?
    if [ $st -eq 1 ] && [ -e "$work/sched.out" ]; then
        echo "$f: an output file was left behind"; result "$f" 1
    else
        golden "$f" $st "$out" "$exp"
    fi
done

echo "== script tests"
for t in tests/cli/*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    d=$work/$name
    rm -rf "$d"; mkdir -p "$d"
    bash "$t" "$visec" "$d" >"$d.log" 2>&1; st=$?
    if [ $st -ne 0 ] && [ $st -ne 77 ]; then tail -30 "$d.log"; fi
    [ $st -eq 77 ] && tail -1 "$d.log"
    result "$t" $st
    if [ $st -eq 0 ] || [ $st -eq 77 ]; then
        [ "${VISEC_KEEP_WORK:-0}" = 1 ] || rm -rf "$d"
    fi
done

[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
