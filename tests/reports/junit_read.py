"""junit_read.py - reads a JUnit XML file with junitparser (an independent
consumer, as CI tools are) and prints what it understood as JSON: per
testsuite its declared counts, the counts it derives from the testcases,
and every testcase with its outcome. Used by tests/unit/test_reports.c.

usage: junit_read.py FILE.xml
"""
import json
import sys

from junitparser import Error, Failure, JUnitXml, Skipped


def outcome(case):
    for res in case.result:
        if isinstance(res, Failure):
            return "failure", res.message, res.type
        if isinstance(res, Error):
            return "error", res.message, res.type
        if isinstance(res, Skipped):
            return "skipped", res.message, res.type
    return "pass", None, None


def main():
    xml = JUnitXml.fromfile(sys.argv[1])
    suites = []
    for suite in xml:
        cases = []
        counted = {"tests": 0, "failure": 0, "error": 0, "skipped": 0}
        for case in suite:
            kind, message, rtype = outcome(case)
            counted["tests"] += 1
            if kind != "pass":
                counted[kind] += 1
            cases.append({
                "classname": case.classname,
                "name": case.name,
                "time": case.time,
                "outcome": kind,
                "message": message,
                "type": rtype,
                "system_out": case.system_out,
            })
        props = {p.name: p.value for p in suite.properties()}
        suites.append({
            "name": suite.name,
            "tests": suite.tests,
            "failures": suite.failures,
            "errors": suite.errors,
            "skipped": suite.skipped,
            "counted": counted,
            "properties": props,
            "cases": cases,
        })
    out = {
        "name": xml.name,
        "tests": xml.tests,
        "failures": xml.failures,
        "errors": xml.errors,
        "suites": suites,
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
