#!/bin/sh
# Stands in for kubectl in the exec test: prints the arguments it was
# given, one per line, so the suite can check the delegated command line.
for a in "$@"; do printf '%s\n' "$a"; done
