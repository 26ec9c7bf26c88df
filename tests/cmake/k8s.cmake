# Kubernetes area: the cluster simulator (fixtures/kubesim) and, below, the
# k8s check module.

# --- simulator ---
# kubesim is tested with the real kubectl.  Each world runs in one simulator
# instance started and stopped by ctest fixtures on a fixed loopback port;
# tests sharing an instance take its RESOURCE_LOCK because they change it.
find_program(PG_KUBECTL kubectl)
find_program(PG_CURL curl)
find_program(PG_BASH bash)
if(PG_KUBECTL AND PG_CURL AND PG_BASH)
  set(PG_SIM_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/sim)
  # name:world:port
  foreach(inst healthy:argocd-healthy:16443 broken:argocd-broken:16444)
    string(REPLACE ":" ";" parts "${inst}")
    list(GET parts 0 name)
    list(GET parts 1 world)
    list(GET parts 2 port)
    add_test(NAME sim.start.${name}
      COMMAND ${PG_BASH} ${PG_SIM_TESTS}/sim_ctl.sh start ${name} ${world} ${port})
    set_tests_properties(sim.start.${name} PROPERTIES
      FIXTURES_SETUP sim_${name} ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)
    add_test(NAME sim.stop.${name}
      COMMAND ${PG_BASH} ${PG_SIM_TESTS}/sim_ctl.sh stop ${name})
    set_tests_properties(sim.stop.${name} PROPERTIES
      FIXTURES_CLEANUP sim_${name} ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 30)
  endforeach()

  # test name:script:instance
  foreach(case kubectl.healthy:run_kubectl.sh:healthy kubectl.broken:run_broken.sh:broken
               faults:run_faults.sh:broken real_api:run_real_api.sh:healthy)
    string(REPLACE ":" ";" parts "${case}")
    list(GET parts 0 name)
    list(GET parts 1 script)
    list(GET parts 2 inst)
    add_test(NAME sim.${name} COMMAND ${PG_BASH} ${PG_SIM_TESTS}/${script})
    set_tests_properties(sim.${name} PROPERTIES
      FIXTURES_REQUIRED sim_${inst} RESOURCE_LOCK sim_${inst}
      ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 400)
  endforeach()

  # Argo CD's health test objects (../shared/reference/k8s-health) served by
  # a simulator of its own (port 16445); writes kubectl's rollout verdicts
  # to tests/sim/health/rollout-verdicts.tsv in the build tree.
  add_test(NAME sim.health_reference COMMAND ${PG_BASH} ${PG_SIM_TESTS}/run_health_reference.sh)
  set_tests_properties(sim.health_reference PROPERTIES
    RESOURCE_LOCK sim_health ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 400)

  # The harness never kills a process a stale pid file names.
  add_test(NAME sim.stale_pid COMMAND ${PG_BASH} ${PG_SIM_TESTS}/run_stale_pid.sh)
  set_tests_properties(sim.stale_pid PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 30)

  # The simulator's internals (selectors, patches, apply ownership, RBAC).
  add_test(NAME sim.unit COMMAND ${PG_PYTHON3} ${PG_SIM_TESTS}/test_kubesim.py)
  set_tests_properties(sim.unit PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)
else()
  message(STATUS "kubectl, curl or bash not found: simulator tests are not registered")
endif()

# --- k8s module ---
# The kubeconfig matrix (unit), then the k8s module through the CLI against
# its own simulator instances (tests/k8s/): k8s-healthy on 127.0.0.1:16461,
# k8s-broken on 16462, k8s-actions on 16463. Each case file names its
# instance ("sim"); cases sharing an instance take its RESOURCE_LOCK.
pg_unit_test(k8s_kubeconfig unit/test_kubeconfig.c)
pg_unit_test(k8s_api unit/test_k8s_api.c)
pg_unit_test(k8s_proxy unit/test_kube_proxy.c)
pg_unit_test(k8s_watch unit/test_k8s_watch.c)

# The Kubernetes example suite validates without a cluster, and passes
# against its own simulator (127.0.0.1:16471, started by the script).
add_test(NAME k8s.example-validate
  COMMAND $<TARGET_FILE:phasegate> validate ${CMAKE_SOURCE_DIR}/suites/examples/kubernetes)
add_test(NAME k8s.example COMMAND ${CMAKE_SOURCE_DIR}/suites/examples/kubernetes/run-against-simulator.sh
  --out ${CMAKE_CURRENT_BINARY_DIR}/k8s-results/example)
set_tests_properties(k8s.example-validate k8s.example PROPERTIES ENVIRONMENT "${PG_TEST_ENV}"
  TIMEOUT 120)
# The real-cluster smoke suite validates without a cluster (it runs against
# kubesim in tests/k8s/cases/real-cluster-suite.json).
add_test(NAME k8s.real-cluster-validate
  COMMAND $<TARGET_FILE:phasegate> validate ${CMAKE_SOURCE_DIR}/suites/examples/real-cluster)
set_tests_properties(k8s.real-cluster-validate PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)

find_program(PG_KUBECTL kubectl)
find_program(PG_CURL curl)
find_program(PG_BASH bash)
if(PG_CURL AND PG_BASH)
  set(PG_K8S_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/k8s)
  foreach(inst healthy:argocd-healthy:16461 broken:argocd-broken:16462
               actions:argocd-healthy:16463)
    string(REPLACE ":" ";" parts "${inst}")
    list(GET parts 0 name)
    list(GET parts 1 world)
    list(GET parts 2 port)
    add_test(NAME k8s.sim.start.${name} COMMAND ${PG_BASH}
      ${CMAKE_CURRENT_SOURCE_DIR}/sim/sim_ctl.sh start k8s-${name} ${world} ${port})
    set_tests_properties(k8s.sim.start.${name} PROPERTIES
      FIXTURES_SETUP k8s_sim_${name} ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)
    add_test(NAME k8s.sim.stop.${name} COMMAND ${PG_BASH}
      ${CMAKE_CURRENT_SOURCE_DIR}/sim/sim_ctl.sh stop k8s-${name})
    set_tests_properties(k8s.sim.stop.${name} PROPERTIES
      FIXTURES_CLEANUP k8s_sim_${name} ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 30)
  endforeach()

  file(GLOB PG_K8S_CASES ${PG_K8S_TESTS}/cases/*.json)
  foreach(case ${PG_K8S_CASES})
    get_filename_component(name ${case} NAME_WE)
    file(STRINGS ${case} simline REGEX "\"sim\": *\"[a-z]+\"")
    string(REGEX REPLACE ".*\"sim\": *\"([a-z]+)\".*" "\\1" inst "${simline}")
    add_test(NAME k8s.case.${name} COMMAND ${PG_PYTHON3} ${PG_K8S_TESTS}/run_case.py ${case})
    set_tests_properties(k8s.case.${name} PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 180
      FIXTURES_REQUIRED k8s_sim_${inst} RESOURCE_LOCK k8s_sim_${inst})
  endforeach()

  # Only the kubeconfig's CA (and http's tls.ca) is trusted: the
  # simulator's CA in a private /etc/ssl/certs must not verify it.
  add_test(NAME k8s.ca-only COMMAND ${PG_BASH} ${PG_K8S_TESTS}/run_ca_only.sh)
  set_tests_properties(k8s.ca-only PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60
    SKIP_RETURN_CODE 77 FIXTURES_REQUIRED k8s_sim_healthy RESOURCE_LOCK k8s_sim_healthy)

  # The module over HTTP/2: a real nginx in front of the simulator.
  add_test(NAME k8s.http2 COMMAND ${PG_BASH} ${PG_K8S_TESTS}/run_http2.sh)
  set_tests_properties(k8s.http2 PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60
    SKIP_RETURN_CODE 77 FIXTURES_REQUIRED k8s_sim_healthy RESOURCE_LOCK k8s_sim_healthy)
  # 64 concurrent checks multiplexed on one HTTP/2 connection (nginx's log says).
  add_test(NAME k8s.h2_multiplex COMMAND ${PG_BASH} ${PG_K8S_TESTS}/run_h2_multiplex.sh k8s)
  set_tests_properties(k8s.h2_multiplex PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120
    SKIP_RETURN_CODE 77 FIXTURES_REQUIRED k8s_sim_healthy RESOURCE_LOCK k8s_sim_healthy)

  # kubectl and phasegate must see the same objects and rollout verdicts.
  if(PG_KUBECTL)
    foreach(inst healthy:argocd-healthy broken:argocd-broken)
      string(REPLACE ":" ";" parts "${inst}")
      list(GET parts 0 name)
      list(GET parts 1 world)
      add_test(NAME k8s.fidelity.${name}
        COMMAND ${PG_PYTHON3} ${PG_K8S_TESTS}/fidelity.py ${name} ${world})
      set_tests_properties(k8s.fidelity.${name} PROPERTIES ENVIRONMENT "${PG_TEST_ENV}"
        TIMEOUT 300 FIXTURES_REQUIRED k8s_sim_${name} RESOURCE_LOCK k8s_sim_${name})
    endforeach()
  endif()
endif()
# --- end k8s module ---
