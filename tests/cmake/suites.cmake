# Tests of the shipped suite suites/argocd-stabilization (tests/suites/):
# checklist coverage against the seed plan, phases 1-5 against the healthy
# world (fixtures/worlds/argocd-stabilization) and against each broken world
# argocd-broken-1..5 (NO-GO at that phase's gate). Each run goes through
# suites/argocd-stabilization/simulator/run.sh, whose servers use fixed
# ports (16481-16482, 16485-16487, 16489): one RESOURCE_LOCK for all of them;
# nginx, dnsmasq and the test Prometheus come from the net fixtures.
set(PG_SUITES_TEST ${CMAKE_CURRENT_SOURCE_DIR}/suites/argocd_suite.py)
set(PG_SUITES_ENV ${PG_TEST_ENV} "no_proxy=127.0.0.1,localhost" "NO_PROXY=127.0.0.1,localhost")

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
  add_test(NAME suites.argocd.${world} COMMAND ${PG_PYTHON3} ${PG_SUITES_TEST} ${world})
  set_tests_properties(suites.argocd.${world} PROPERTIES ENVIRONMENT "${PG_SUITES_ENV}"
    TIMEOUT 900 FIXTURES_REQUIRED "pg_nginx;pg_dns;pg_prom" RESOURCE_LOCK suites_argocd_sim)
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
  add_test(NAME ship.stabilization.${mode} COMMAND ${PG_PYTHON3} ${PG_STAB_B_TEST} ${mode})
  set_tests_properties(ship.stabilization.${mode} PROPERTIES ENVIRONMENT "${PG_SUITES_ENV}"
    TIMEOUT 900 FIXTURES_REQUIRED "pg_nginx;pg_dns;pg_prom" RESOURCE_LOCK suites_argocd_sim)
endforeach()
foreach(n 6 7 8 8-load 9)
  add_test(NAME ship.stabilization.broken_${n} COMMAND ${PG_PYTHON3} ${PG_STAB_B_TEST} broken ${n})
  set_tests_properties(ship.stabilization.broken_${n} PROPERTIES ENVIRONMENT "${PG_SUITES_ENV}"
    TIMEOUT 900 FIXTURES_REQUIRED "pg_nginx;pg_dns;pg_prom" RESOURCE_LOCK suites_argocd_sim)
endforeach()
