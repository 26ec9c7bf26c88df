# The core: the scheduler's unit tests, and integration cases that run the
# real CLI on small suites (gates, eventually, saves, secrets, signals,
# selection, dry-run, reports).
pg_unit_test(test_scheduler unit/test_scheduler.c)
pg_unit_test(test_kube_rules unit/test_kube_rules.c)

file(GLOB PG_CORE_CASES LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/integration/cases/*)
foreach(dir ${PG_CORE_CASES})
  if(EXISTS ${dir}/case.json)
    get_filename_component(name ${dir} NAME)
    add_test(NAME core.${name}
      COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_case.py ${dir})
    set_tests_properties(core.${name} PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120)
  endif()
endforeach()

# The examples the README runs: the basic suite validates, and its failing
# variant stops at phase 2.
add_test(NAME core.examples-validate
  COMMAND $<TARGET_FILE:phasegate> validate ${CMAKE_SOURCE_DIR}/suites/examples/basic)
