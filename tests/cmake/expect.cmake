# tests of the expect area: the expectation engine (runner/expect.c), its
# operators, messages, paths, jq and regex handling, masking and threads.
pg_unit_test(expect unit/test_expect.c)
