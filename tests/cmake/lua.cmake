# Argo CD's Lua health checks: the sandbox and the goto rewrite (unit), and
# Argo CD's own test cases for its shipped scripts, read in place from
# PG_SHARED_DIR/reference/argocd/resource_customizations (830 cases).
add_test(NAME lua.corpus COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/lua/corpus.py)
set_tests_properties(lua.corpus PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 600)
pg_unit_test(test_lua_health unit/test_lua_health.c)
add_test(NAME lua.cli COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/lua/cli.py)
set_tests_properties(lua.cli PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120)

# The k8s module's health: with Lua scripts, against a simulator of its own
# (tests/lua/world on 127.0.0.1:16457), through the k8s case runner.
find_program(PG_LUA_CURL curl)
find_program(PG_LUA_BASH bash)
if(PG_LUA_CURL AND PG_LUA_BASH)
  add_test(NAME lua.sim.start COMMAND ${PG_LUA_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/sim/sim_ctl.sh
    start k8s-lua ${CMAKE_CURRENT_SOURCE_DIR}/lua/world 16457)
  set_tests_properties(lua.sim.start PROPERTIES FIXTURES_SETUP lua_sim
    ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)
  add_test(NAME lua.sim.stop COMMAND ${PG_LUA_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/sim/sim_ctl.sh
    stop k8s-lua)
  set_tests_properties(lua.sim.stop PROPERTIES FIXTURES_CLEANUP lua_sim
    ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 30)
  file(GLOB PG_LUA_CASES ${CMAKE_CURRENT_SOURCE_DIR}/lua/cases/*.json)
  foreach(case ${PG_LUA_CASES})
    get_filename_component(name ${case} NAME_WE)
    add_test(NAME lua.k8s.${name}
      COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/k8s/run_case.py ${case})
    set_tests_properties(lua.k8s.${name} PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 180
      FIXTURES_REQUIRED lua_sim RESOURCE_LOCK lua_sim)
  endforeach()
endif()
