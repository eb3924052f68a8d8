#!/usr/bin/env bash
# install_man.sh VISEC WORKDIR — conventions of the command line and the
# installation: `make install` with DESTDIR and PREFIX puts visec, visec.1
# and the bash completion in place; the man page renders (man -l) without
# warnings and names every command and every option that `visec --help` and
# `visec help COMMAND` list (found mechanically); `visec help COMMAND` is
# `visec COMMAND --help`; `--` ends options; --version is listed; the
# completion offers commands and each command's options.
set -eu
visec=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") work=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*"; exit 1; }
command -v man >/dev/null || { echo "no man"; exit 77; }

root=$work/root
make -s -C "$src" install DESTDIR="$root" PREFIX=/opt/vx >"$work/make.log" 2>&1 || { cat "$work/make.log"; fail "make install"; }
for f in bin/visec share/man/man1/visec.1 share/bash-completion/completions/visec share/doc/visec/README.md; do
    [ -e "$root/opt/vx/$f" ] || fail "make install did not install $f"
done
"$root/opt/vx/bin/visec" --version | grep -q '^visec [0-9]' || fail "the installed visec does not run"

# The page renders cleanly.
LC_ALL=C MANWIDTH=200 man -l "$root/opt/vx/share/man/man1/visec.1" 2>"$work/man.err" | col -b >"$work/man.txt"
[ -s "$work/man.txt" ] || fail "man -l rendered nothing"
[ ! -s "$work/man.err" ] || { cat "$work/man.err"; fail "man -l warns"; }
if command -v groff >/dev/null; then
    groff -man -ww -z "$src/docs/visec.1" 2>"$work/groff.err"
    [ ! -s "$work/groff.err" ] || { cat "$work/groff.err"; fail "groff warns about visec.1"; }
fi

# Every command and option that --help lists is in the page.
"$visec" --help >"$work/help.txt"
grep -q -- '--version' "$work/help.txt" || fail "--version is not listed in --help"
cmds=$(sed -n '/^commands:/,/^$/p' "$work/help.txt" | awk 'NF && !/^commands:/ {print $1}')
[ -n "$cmds" ] || fail "no commands found in --help"
missing=0 n=0
check_in_man() { # WORD WHERE
    n=$((n + 1))
    grep -qF -- "$1" "$work/man.txt" || { echo "visec.1 lacks '$1' ($2)"; missing=$((missing + 1)); }
}
for o in $(grep -oE '(^|[ ,])--?[A-Za-z0-9][-A-Za-z0-9]*' "$work/help.txt" | tr -d ' ,' | sort -u); do
    check_in_man "$o" "visec --help"
done
for c in $cmds; do
    check_in_man "$c" "command"
    "$visec" help "$c" >"$work/h_$c.txt" || fail "visec help $c"
    "$visec" "$c" --help >"$work/h2_$c.txt"
    cmp -s "$work/h_$c.txt" "$work/h2_$c.txt" || fail "visec help $c differs from visec $c --help"
    # Options are the first word of the indented lines: "  --name ARG  text".
    for o in $(grep -oE '^  +--?[A-Za-z0-9][-A-Za-z0-9]*' "$work/h_$c.txt" | tr -d ' ' | sort -u); do
        check_in_man "$o" "visec $c"
    done
done
echo "$n commands and options looked up, $missing missing from visec.1"
[ $missing -eq 0 ] && [ $n -ge 30 ] || fail "the man page misses options"
st=0; "$visec" help nope 2>"$work/err" || st=$?
[ $st -eq 1 ] && grep -q "unknown command 'nope'" "$work/err" || fail "visec help nope"

# -- ends the options: a model file whose name starts with a dash.
printf 'model m\ninput x: [N, 3, 4, 4]\noutput y = relu(x)\n' >"$work/-m.vise"
(cd "$work" && "$visec" check -- -m.vise >/dev/null) || fail "check -- -m.vise"
st=0; (cd "$work" && "$visec" check -m.vise 2>/dev/null) || st=$?
[ $st -eq 1 ] || fail "-m.vise without -- should be an unknown option"

# Bash completion: commands, and options read from `visec help COMMAND`.
PATH=$root/opt/vx/bin:$PATH bash -c '
    source "$1"
    COMP_WORDS=(visec ch); COMP_CWORD=1; _visec; echo "${COMPREPLY[*]}"
    COMP_WORDS=(visec check --stric); COMP_CWORD=2; _visec; echo "${COMPREPLY[*]}"
    COMP_WORDS=(visec compile --disable-pass f); COMP_CWORD=3; _visec; echo "${COMPREPLY[*]}"
' _ "$root/opt/vx/share/bash-completion/completions/visec" >"$work/compl.txt"
cat "$work/compl.txt"
[ "$(sed -n 1p "$work/compl.txt")" = check ] || fail "completion of commands"
[ "$(sed -n 2p "$work/compl.txt")" = --strict ] || fail "completion of options"
grep -q "fold_bn fuse_epilogue" "$work/compl.txt" || fail "completion of pass names"
echo "install_man: ok"
