# Argo CD's Lua health checks: the sandbox and the goto rewrite (unit), and
# Argo CD's own test cases for its shipped scripts, read in place from
# PG_SHARED_DIR/reference/argocd/resource_customizations (830 cases).
add_test(NAME lua.corpus COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/lua/corpus.py)
set_tests_properties(lua.corpus PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 600)
pg_unit_test(test_lua_health unit/test_lua_health.c)
add_test(NAME lua.cli COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/lua/cli.py)
set_tests_properties(lua.cli PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120)
