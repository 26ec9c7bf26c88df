# Tests of the shipped suite suites/argocd-stabilization (tests/suites/):
# checklist coverage against the seed plan, phases 1-5 against the healthy
# world (fixtures/worlds/argocd-stabilization) and against each broken world
# argocd-broken-1..5 (NO-GO at that phase's gate). Each run goes through
# suites/argocd-stabilization/simulator/run.sh, whose servers take the ten
# ports from SIM_PORT on: pg_suite_run() gives each test a block of its own
# (PG_SUITE_PORT, from 16700 on: nothing else in the tests uses 16700-16899),
# so the runs need no lock; nginx, dnsmasq and the test Prometheus come from
# the net fixtures (read only).
set(PG_SUITES_TEST ${CMAKE_CURRENT_SOURCE_DIR}/suites/argocd_suite.py)
set(PG_SUITES_ENV ${PG_TEST_ENV} "no_proxy=127.0.0.1,localhost" "NO_PROXY=127.0.0.1,localhost")
set(PG_SUITE_NEXT_PORT 16700)

# pg_suite_run(NAME COMMAND...): a test that runs simulator/run.sh, with its
# own ports and the net fixtures.
function(pg_suite_run name)
  if(PG_SUITE_NEXT_PORT GREATER 16890)
    message(FATAL_ERROR "tests/cmake/suites.cmake: no port block left for ${name}")
  endif()
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "${PG_SUITES_ENV};PG_SUITE_PORT=${PG_SUITE_NEXT_PORT}"
    TIMEOUT 900 FIXTURES_REQUIRED "pg_nginx;pg_dns;pg_prom")
  math(EXPR next "${PG_SUITE_NEXT_PORT} + 10")
  set(PG_SUITE_NEXT_PORT ${next} PARENT_SCOPE)
endfunction()

add_test(NAME suites.argocd.validate
  COMMAND $<TARGET_FILE:phasegate> validate ${CMAKE_SOURCE_DIR}/suites/argocd-stabilization
  --env-file ${CMAKE_SOURCE_DIR}/suites/argocd-stabilization/env/simulator.env)
# the token only has to exist: the suite reads it from the environment
set_tests_properties(suites.argocd.validate PROPERTIES
  ENVIRONMENT "${PG_SUITES_ENV};ARGOCD_AUTH_TOKEN=validate-only;GRAFANA_TOKEN=validate-only"
  TIMEOUT 60)

add_test(NAME suites.argocd.coverage COMMAND ${PG_PYTHON3} ${PG_SUITES_TEST} coverage)
set_tests_properties(suites.argocd.coverage PROPERTIES ENVIRONMENT "${PG_SUITES_ENV}" TIMEOUT 60)

foreach(world healthy broken-1 broken-2 broken-3 broken-4 broken-5)
  pg_suite_run(suites.argocd.${world} ${PG_PYTHON3} ${PG_SUITES_TEST} ${world})
endforeach()

# the Argo CD token reaches the CLI check and is masked everywhere, even when
# the CLI prints it (tests/suites/leaky-argocd); no server needed
add_test(NAME suites.argocd.secret COMMAND ${PG_PYTHON3} ${PG_SUITES_TEST} secret)
set_tests_properties(suites.argocd.secret PROPERTIES ENVIRONMENT "${PG_SUITES_ENV}" TIMEOUT 120)

# phases 6-9 (tests/suites/stabilization_b.py): the DR step refuses while an
# Application holds the resources finalizer, and a restore reproduces every
# exported object (each on a kubesim of its own, ports 16525 and 16526); a
# broken world per phase (fixtures/worlds/argocd-broken-6..9 over the suite's
# world) stops at that phase's gate, through simulator/run.sh like the others;
# argocd-broken-8-load (a slow controller) stops at 8.1's load checks.
set(PG_STAB_B_TEST ${CMAKE_CURRENT_SOURCE_DIR}/suites/stabilization_b.py)
foreach(mode dr-finalizer restore)
  add_test(NAME ship.stabilization.${mode} COMMAND ${PG_PYTHON3} ${PG_STAB_B_TEST} ${mode})
  set_tests_properties(ship.stabilization.${mode} PROPERTIES ENVIRONMENT "${PG_SUITES_ENV}"
    TIMEOUT 300)
endforeach()
# step 9.3's alert delivery through the real Alertmanager (a refusing
# receiver fails it) and Grafana's token (a wrong one fails, masked); step
# 7.2's apply without force meeting another manager's field (the rollback
# removes only what it created)
foreach(mode alerting routing-conflict)
  pg_suite_run(ship.stabilization.${mode} ${PG_PYTHON3} ${PG_STAB_B_TEST} ${mode})
endforeach()
foreach(n 6 7 8 8-load 9)
  pg_suite_run(ship.stabilization.broken_${n} ${PG_PYTHON3} ${PG_STAB_B_TEST} broken ${n})
endforeach()
