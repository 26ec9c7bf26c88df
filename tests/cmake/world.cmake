# The upstream Argo CD worlds (fixtures/worlds/argocd-upstream*) and the
# simulator's controller loop, faults and live metrics (tests/sim/).
# sim.world_shape compares the worlds with upstream's install manifests
# read in place from PG_SHARED_DIR.
add_test(NAME sim.world_shape COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/sim/world_shape.py)
set_tests_properties(sim.world_shape PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120)
