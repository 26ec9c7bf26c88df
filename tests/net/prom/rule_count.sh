#!/bin/sh
# rule_count.sh - the rule count that `promtool check rules` reports for
# fixtures/prometheus/rules.yml must be what our rules check sees on the
# running Prometheus: runs rules.json with --var rules_expected=<promtool's count>.
set -eu
: "${PG_SOURCE_DIR:?}"
here=$(dirname "$0")
n=$(promtool check rules "$PG_SOURCE_DIR/fixtures/prometheus/rules.yml" 2>&1 |
	sed -n 's/.*SUCCESS: \([0-9][0-9]*\) rules found.*/\1/p')
if [ -z "$n" ]; then
	echo "rule_count.sh: promtool did not report a rule count" >&2
	promtool check rules "$PG_SOURCE_DIR/fixtures/prometheus/rules.yml" >&2 || true
	exit 1
fi
echo "promtool check rules: $n rules"
exec "${PG_PYTHON3:-python3}" "$here/../dns/expect_run.py" "$here/rules.json" --var "rules_expected=$n"
