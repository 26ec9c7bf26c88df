#!/usr/bin/env bash
# The command line's own rules: per-command help, did-you-mean for commands
# and options, an option that does not apply to a command is an error (exit
# 2, nothing runs), --require go, list --ids; and the bash, zsh and fish
# completions, driven the way each shell drives them, completing commands,
# options and the phase/step/tag ids of the suite on the line.
set -uo pipefail
src=${PG_SOURCE_DIR:?} bin=${PG_BINARY:?}
export PHASEGATE=$bin
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
suite=tests/cli/suite.yaml

expect() { # expect WHAT WANT-RC WANT-TEXT -- ARGS...
  local what=$1 want=$2 text=$3
  shift 4
  local out rc
  out=$("$bin" "$@" 2>&1)
  rc=$?
  if [[ $rc != "$want" || $out != *"$text"* ]]; then
    echo "FAIL: $what: phasegate $*: rc $rc (want $want), output: ${out:0:400}"
    fails=$((fails + 1))
  fi
}
same() { # same WHAT GOT WANT
  if [[ "$2" != "$3" ]]; then
    echo "FAIL: $1: got [$2], want [$3]"
    fails=$((fails + 1))
  fi
}

expect "help for one command" 0 "usage: phasegate run SUITE" -- help run
expect "COMMAND --help" 0 "usage: phasegate list SUITE" -- list --help
same "help COMMAND = COMMAND --help" "$("$bin" help validate)" "$("$bin" validate --help)"
expect "help names a command option" 0 "--ids" -- help list
expect "help for no such command" 2 "no command 'runn'" -- help runn
expect "did you mean a command" 2 "unknown command 'rnu' (did you mean 'run'?)" -- rnu $suite
expect "did you mean an option" 2 "unknown option '--jnuit' (did you mean '--junit'?)" -- run $suite --jnuit x
expect "did you mean, with =" 2 "(did you mean '--markdown'?)" -- run $suite --markdwon=x
expect "no suggestion for nonsense" 2 "unknown option '--zzzzzz'" -- run $suite --zzzzzz
expect "option not for this command" 2 "option '--junit' does not apply to 'validate' (it applies to: run, report)" -- validate $suite --junit "$tmp/j.xml"
[[ -e $tmp/j.xml ]] && { echo "FAIL: validate wrote a report"; fails=$((fails + 1)); }
expect "flag not for this command" 2 "option '--keep-going' does not apply to 'list'" -- list $suite --keep-going
expect "--ids only for list" 2 "option '--ids' does not apply to 'run'" -- run $suite --ids
expect "a flag takes no value" 2 "option '--dry-run' takes no value" -- run $suite --dry-run=yes
expect "a value is missing" 2 "option '--junit' needs a value" -- run $suite --junit
expect "an option value may start with -" 0 "" -- run $suite --phase pass --run-id -x- --quiet
expect "--jobs past the ceiling is refused, saying why" 2 "option '--jobs' is at most 256, got 257: each concurrent check holds a thread" -- run $suite --jobs 257
expect "--jobs at the ceiling runs" 0 "" -- run $suite --var result=true --jobs 256 --quiet
expect "--require takes go" 2 "option '--require' takes 'go'" -- run $suite --require maybe
expect "--require go, verdict GO" 0 "" -- run $suite --var result=true --require go --quiet
expect "--require go, verdict NO-GO: the gate failure (1) wins" 1 "" -- run $suite --require go --quiet
expect "without --require a failed gate is 1" 1 "" -- run $suite --quiet
same "list --ids" "$("$bin" list --ids $suite)" "$(printf 'phase pass\nstep ok\nphase fail\nstep bad\ntag smoke\ntag slow')"

# completions
bash_complete() {
  bash -c 'source /usr/share/bash-completion/bash_completion; source completions/phasegate.bash
    COMP_LINE=$1; COMP_POINT=${#1}; read -ra COMP_WORDS <<<"$1"; [[ $1 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _phasegate; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$1"
}
zsh_complete() {
  zsh -f tests/cli/zsh_harness.zsh "$1" | sort
}
fish_complete() {
  fish -c 'source completions/phasegate.fish; complete -C $argv[1] | string replace -r "\t.*" ""' "$1" | sort
}
for sh in bash zsh fish; do
  same "$sh: command" "$(${sh}_complete "phasegate valid")" "validate"
  same "$sh: --phase ids" "$(${sh}_complete "phasegate run $suite --phase ")" "$(printf 'fail\npass')"
  same "$sh: --step ids after a valued option" "$(${sh}_complete "phasegate run --jobs 2 $suite --step ")" "$(printf 'bad\nok')"
  same "$sh: --tag ids" "$(${sh}_complete "phasegate list $suite --tag ")" "$(printf 'slow\nsmoke')"
  same "$sh: option prefix" "$(${sh}_complete "phasegate run $suite --mark")" "--markdown"
  same "$sh: options of list only" "$(${sh}_complete "phasegate list $suite --i")" "--ids"
  same "$sh: --require values" "$(${sh}_complete "phasegate run $suite --require ")" "go"
done
if [[ $fails != 0 ]]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "ok: help, did-you-mean, option rules, --require, list --ids, bash/zsh/fish completion"
