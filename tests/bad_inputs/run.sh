#!/usr/bin/env bash
# run.sh - feeds every bad input listed in cases.tsv to `phasegate validate`
# and checks that each one is refused cleanly: exit code 2, the expected
# message (and file:line:col where there is one) on stderr, no crash, no
# sanitizer report, no hang. Large and binary inputs are generated here, in
# a temporary directory, rather than stored.
#
# Environment: PG_BINARY (the phasegate binary, required); TMPDIR (optional).
# Usage: run.sh [NAME...]   (only the named cases)
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
table=$here/cases.tsv
cases_dir=$here/cases
: "${PG_BINARY:?PG_BINARY must name the phasegate binary}"
case $PG_BINARY in
/*) ;;
*) PG_BINARY=$PWD/$PG_BINARY ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pg-badinput.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# cases rely on this variable not existing
unset PG_BADINPUT_SURELY_UNSET

# generate NAME: writes the input into $tmp and prints its path relative to
# $tmp (where the case then runs).
generate() {
	case $1 in
	deep) # 10,000 nested flow sequences on one line
		{ printf '%*s' 10000 '' | tr ' ' '['; printf '%*s\n' 10000 '' | tr ' ' ']'; } >"$tmp/deep.yaml"
		echo deep.yaml ;;
	deep-block) # 200 nested block maps, one per line
		local i
		for ((i = 0; i < 200; i++)); do printf '%*sa:\n' $((2 * i)) ''; done >"$tmp/deep-block.yaml"
		printf '%*sx\n' 400 '' >>"$tmp/deep-block.yaml"
		echo deep-block.yaml ;;
	huge) # 100 MB, sparse: must be refused from its size, not read
		truncate -s 100M "$tmp/huge.yaml" && echo huge.yaml ;;
	many-nodes) # 550,000 list items in 1.1 MB, past the node limit
		{ printf '['; yes '0,' | head -n 550000 | tr -d '\n'; printf '0]\n'; } >"$tmp/many-nodes.yaml"
		echo many-nodes.yaml ;;
	junk) # control bytes, as in a binary file
		printf '\001\002\003\004\005\006\a\b\016\017\020\033[0m binary\n' >"$tmp/junk.yaml"
		echo junk.yaml ;;
	nul) # a NUL byte inside a key
		printf 'name: x\nphases\000: []\n' >"$tmp/nul.yaml"
		echo nul.yaml ;;
	bad-utf8) # \xc3 must be followed by a continuation byte
		printf 'name: x\ntitle: \303(\nphases: []\n' >"$tmp/bad-utf8.yaml"
		echo bad-utf8.yaml ;;
	utf16) # UTF-16LE with its byte order mark
		printf '\377\376n\000a\000m\000e\000:\000 \000x\000\n\000' >"$tmp/utf16.yaml"
		echo utf16.yaml ;;
	suite-dir) # a suite directory whose suite.yaml is a directory
		mkdir -p "$tmp/suite-dir/suite.yaml" && echo suite-dir ;;
	var-bomb) # nine variables, each ten times the one before: 10^9 copies
		{
			printf 'name: var-bomb\nvars:\n  v0: "lol"\n'
			local i
			for ((i = 1; i < 10; i++)); do
				printf '  v%d: "' "$i"
				printf '${v%d}' $(yes $((i - 1)) | head -n 10)
				printf '"\n'
			done
			printf 'phases: []\n'
		} >"$tmp/var-bomb.yaml"
		echo var-bomb.yaml ;;
	env-fifo) # an env file that is a FIFO nobody writes to
		printf 'name: env-fifo\nphases: []\n' >"$tmp/env-fifo.yaml"
		mkfifo "$tmp/env.fifo" && echo env-fifo.yaml ;;
	secret-fifo) # a secret file that is a FIFO nobody writes to
		printf 'name: secret-fifo\nsecrets:\n  key: {file: key.fifo}\nphases: []\n' >"$tmp/secret-fifo.yaml"
		mkfifo "$tmp/key.fifo" && echo secret-fifo.yaml ;;
	*)
		echo "unknown generator '$1'" >&2
		return 1 ;;
	esac
}

total=0 failed=0 slowest_ms=0 slowest=-
failures=()

fail() {
	failed=$((failed + 1))
	failures+=("$1")
	echo "FAIL $1: $2"
	if [[ -s $tmp/stderr ]]; then
		head -c 2000 "$tmp/stderr" | sed 's/^/    | /'
	fi
}

while IFS=$'\t' read -r name input frag where args; do
	[[ -z $name || $name == \#* ]] && continue
	if (($# > 0)); then
		want=0
		for n in "$@"; do [[ $n == "$name" ]] && want=1; done
		((want)) || continue
	fi
	total=$((total + 1))
	: >"$tmp/stderr"
	if [[ $input == gen:* ]]; then
		dir=$tmp
		if ! input=$(generate "${input#gen:}"); then
			fail "$name" "could not generate the input"
			continue
		fi
	else
		dir=$cases_dir
	fi
	argv=(validate "$input")
	if [[ -n ${args:-} && $args != - ]]; then
		read -r -a extra <<<"$args"
		argv+=("${extra[@]}")
	fi
	t0=$(date +%s%N)
	# a hang guard, not a speed bound: generous, since an unoptimised
	# sanitizer build on a loaded machine took more than 10 s to refuse
	# a million nodes
	(cd "$dir" && exec timeout 60 "$PG_BINARY" "${argv[@]}") >"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	# measured, not asserted: the slowest refusal is printed at the end
	ms=$((($(date +%s%N) - t0) / 1000000))
	if ((ms > slowest_ms)); then
		slowest_ms=$ms
		slowest=$name
	fi
	if ((rc == 124)); then
		fail "$name" "did not finish within 60 seconds"
	elif ((rc >= 128)); then
		fail "$name" "crashed (exit $rc, signal $((rc - 128)))"
	elif grep -qaE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/stderr"; then
		fail "$name" "sanitizer report"
	elif ((rc != 2)); then
		fail "$name" "exit code $rc, expected 2"
	elif ! grep -qaF -- "$frag" "$tmp/stderr"; then
		fail "$name" "stderr lacks '$frag'"
	elif [[ $where != - ]] && ! grep -qaF -- "$where" "$tmp/stderr"; then
		fail "$name" "stderr lacks the position '$where'"
	else
		echo "ok   $name"
	fi
	# generated inputs can be large: drop them at once
	[[ $dir == "$tmp" ]] && find "$tmp" -mindepth 1 -maxdepth 1 ! -name stderr ! -name stdout -exec rm -rf {} +
done <"$table"

echo "slowest refusal: $slowest (${slowest_ms} ms)"
echo "$total bad inputs, $((total - failed)) refused correctly, $failed failed"
if ((failed > 0)); then
	echo "failed: ${failures[*]}"
	exit 1
fi
if ((total == 0)); then
	echo "no case matched" >&2
	exit 1
fi
exit 0
