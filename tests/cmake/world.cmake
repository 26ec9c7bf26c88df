# The upstream Argo CD worlds (fixtures/worlds/argocd-upstream*) and the
# simulator's controller loop, faults and live metrics (tests/sim/).
# sim.world_shape compares the worlds with upstream's install manifests
# read in place from PG_SHARED_DIR.
add_test(NAME sim.world_shape COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/sim/world_shape.py)
set_tests_properties(sim.world_shape PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120)

# One instance of the upstream world (Kubernetes 16490, Argo CD API 16491,
# metrics of the controller, repo-server and server 16492-16494)
# shared by the scripts below; each resets it and holds its lock.
if(PG_KUBECTL AND PG_CURL AND PG_BASH)
  add_test(NAME sim.start.upstream COMMAND ${PG_BASH} ${PG_SIM_TESTS}/sim_ctl.sh
    start upstream argocd-upstream 16490 --argocd-port 16491
    --argocd-metrics-ports 16492,16493,16494
    --argocd-response-log ${CMAKE_BINARY_DIR}/tests/sim/upstream/responses.jsonl)
  set_tests_properties(sim.start.upstream PROPERTIES
    FIXTURES_SETUP sim_upstream ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)
  add_test(NAME sim.stop.upstream COMMAND ${PG_BASH} ${PG_SIM_TESTS}/sim_ctl.sh stop upstream)
  set_tests_properties(sim.stop.upstream PROPERTIES
    FIXTURES_CLEANUP sim_upstream ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 30)
  foreach(case rollout world_faults metrics scheduling)
    add_test(NAME sim.${case} COMMAND ${PG_BASH} ${PG_SIM_TESTS}/run_${case}.sh)
    set_tests_properties(sim.${case} PROPERTIES
      FIXTURES_REQUIRED sim_upstream RESOURCE_LOCK sim_upstream
      ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 300)
  endforeach()
  # every Argo CD API response those scripts got (outage conditions, retry
  # counts, refreshed apps) has the shape of Argo CD's API description
  add_test(NAME sim.upstream_swagger COMMAND ${PG_PYTHON3}
    ${CMAKE_CURRENT_SOURCE_DIR}/argocd/validate_responses.py
    ${PG_SHARED_DIR}/reference/argocd-swagger.json
    ${CMAKE_BINARY_DIR}/tests/sim/upstream/responses.jsonl)
  set_tests_properties(sim.upstream_swagger PROPERTIES ENVIRONMENT "${PG_TEST_ENV}"
    TIMEOUT 120 DEPENDS "sim.rollout;sim.world_faults;sim.metrics"
    FIXTURES_REQUIRED sim_upstream RESOURCE_LOCK sim_upstream)
endif()
