# Drives completions/_phasegate outside an interactive shell: compsys's
# compadd, _describe and _files are replaced by functions that print what
# they were given (with _describe's prefix filtering), and the function is
# called with words/CURRENT/PREFIX set as the completion system sets them.
compadd() {
  local a
  for a in "$@"; do
    [[ $a == -a ]] && continue
    if [[ $a == ids || $a == cmds ]]; then print -rl -- "${(P@)a}"; else print -r -- $a; fi
  done
}
_describe() {
  local e
  for e in "${(P@)argv[-1]}"; do
    e=${e%%:*}
    [[ $e == ${PREFIX}* ]] && print -r -- $e
  done
}
_files() { print -r -- "(files)" }
words=(${=1})
[[ $1 == *" " ]] && words+=("")
CURRENT=${#words}
PREFIX=$words[CURRENT]
source completions/_phasegate
