# Verdicts an approver can sign (tests/integration/verdicts.py): the
# selection matrix, destructive actions, attestations (bad inputs, the
# attest/report --attest flow, ssh-keygen signatures), waits and safe report
# files, each against the real CLI.
foreach(t rollback selection destructive attest-bad attest-flow attest-signed waits files
    digest report-rules escalation remedies prior when)
  add_test(NAME verdicts.${t}
    COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/verdicts.py ${t})
  set_tests_properties(verdicts.${t} PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 300)
endforeach()

# the message table: every module's default failure names the cause
pg_unit_test(messages unit/test_messages.c)
