# The argocd module through the CLI against the simulator's Argo CD API
# (fixtures/kubesim/argocd_api.py), data-driven from tests/argocd/cases/.
# Two instances of the argocd-api world: "read" (kubernetes 16650, argocd
# 16651) for reads and errors, "actions" (16652, 16653) for cases that
# change the world (each resets it); instances live in tests/sim/argocd-NAME.
# Each case file names its instance
# ("sim"). argocd.swagger then validates every response body the
# simulator sent in those cases against Argo CD's API description.
find_program(PG_CURL curl)
find_program(PG_BASH bash)
if(PG_CURL AND PG_BASH)
  set(PG_ARGOCD_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/argocd)
  foreach(inst read:16650:16651 actions:16652:16653)
    string(REPLACE ":" ";" parts "${inst}")
    list(GET parts 0 name)
    list(GET parts 1 kport)
    list(GET parts 2 aport)
    add_test(NAME argocd.sim.start.${name} COMMAND ${PG_BASH}
      ${PG_ARGOCD_TESTS}/sim_ctl.sh start ${name} argocd-api ${kport} ${aport})
    set_tests_properties(argocd.sim.start.${name} PROPERTIES
      FIXTURES_SETUP argocd_sim_${name} ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)
    add_test(NAME argocd.sim.stop.${name} COMMAND ${PG_BASH}
      ${PG_ARGOCD_TESTS}/sim_ctl.sh stop ${name})
    set_tests_properties(argocd.sim.stop.${name} PROPERTIES
      FIXTURES_CLEANUP argocd_sim_${name} ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 30)
  endforeach()

  file(GLOB PG_ARGOCD_CASES ${PG_ARGOCD_TESTS}/cases/*.json)
  set(PG_ARGOCD_CASE_TESTS "")
  foreach(case ${PG_ARGOCD_CASES})
    get_filename_component(name ${case} NAME_WE)
    file(STRINGS ${case} simline REGEX "\"sim\": *\"[a-z]+\"")
    string(REGEX REPLACE ".*\"sim\": *\"([a-z]+)\".*" "\\1" inst "${simline}")
    add_test(NAME argocd.case.${name} COMMAND ${PG_PYTHON3} ${PG_ARGOCD_TESTS}/run_case.py ${case})
    set_tests_properties(argocd.case.${name} PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 180
      FIXTURES_REQUIRED argocd_sim_${inst} RESOURCE_LOCK argocd_sim_${inst})
    list(APPEND PG_ARGOCD_CASE_TESTS argocd.case.${name})
  endforeach()

  # 64 concurrent Argo CD reads multiplexed on one HTTP/2 connection
  # (tests/k8s/run_h2_multiplex.sh: nginx in front of the simulator).
  add_test(NAME argocd.h2_multiplex COMMAND ${PG_BASH}
    ${CMAKE_CURRENT_SOURCE_DIR}/k8s/run_h2_multiplex.sh argocd)
  set_tests_properties(argocd.h2_multiplex PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120
    SKIP_RETURN_CODE 77 FIXTURES_REQUIRED argocd_sim_read RESOURCE_LOCK argocd_sim_read)
  list(APPEND PG_ARGOCD_CASE_TESTS argocd.h2_multiplex)

  add_test(NAME argocd.swagger COMMAND ${PG_PYTHON3} ${PG_ARGOCD_TESTS}/validate_responses.py
    --routes ${CMAKE_SOURCE_DIR}/fixtures/kubesim/argocd_api.py
    ${PG_SHARED_DIR}/reference/argocd-swagger.json
    ${CMAKE_BINARY_DIR}/tests/sim/argocd-read/responses.jsonl
    ${CMAKE_BINARY_DIR}/tests/sim/argocd-actions/responses.jsonl)
  set_tests_properties(argocd.swagger PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120
    DEPENDS "${PG_ARGOCD_CASE_TESTS}"
    FIXTURES_REQUIRED "argocd_sim_read;argocd_sim_actions")
endif()

# The Argo CD example suite validates without a server, and passes
# against its own simulator (127.0.0.1:16655/16656, started by the script).
add_test(NAME argocd.example-validate
  COMMAND $<TARGET_FILE:phasegate> validate ${CMAKE_SOURCE_DIR}/suites/examples/argocd)
add_test(NAME argocd.example COMMAND ${CMAKE_SOURCE_DIR}/suites/examples/argocd/run-against-simulator.sh
  --out ${CMAKE_CURRENT_BINARY_DIR}/argocd-results/example)
# (validation resolves the secret: the example logs in with ARGOCD_PASSWORD)
set_tests_properties(argocd.example-validate PROPERTIES
  ENVIRONMENT "${PG_TEST_ENV};ARGOCD_PASSWORD=validation-only" TIMEOUT 60)
set_tests_properties(argocd.example PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120)
