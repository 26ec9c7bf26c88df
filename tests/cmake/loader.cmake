# tests of the loader area: the YAML node tree, key tables, variables and
# secrets (unit), and the table of bad suites fed to `phasegate validate`.
pg_unit_test(node ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_node.c)
pg_unit_test(keys ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_keys.c)
pg_unit_test(vars ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_vars.c)
pg_unit_test(mask ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_mask.c)

add_test(NAME badinput.table COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bad_inputs/run.sh)
set_tests_properties(badinput.table PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 600)
