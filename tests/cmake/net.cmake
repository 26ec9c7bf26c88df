# tests of the network modules (real servers on 127.0.0.1)

# --- http ---
# Proxy settings of the machine must not reroute loopback requests.
set(PG_HTTP_TEST_ENV ${PG_TEST_ENV} "no_proxy=127.0.0.1,localhost,10.9.9.2"
  "NO_PROXY=127.0.0.1,localhost,10.9.9.2")
# Fixtures: nginx (tests/net/nginx.sh, ports 18080 18443-18446) and the fault
# server (tests/net/http_faults.sh, ports 18090-18095), started once for every
# test that needs them and stopped after the last one.
add_test(NAME net.http.nginx.start COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/nginx.sh start)
add_test(NAME net.http.nginx.stop COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/nginx.sh stop)
add_test(NAME net.http.faults.start COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/http_faults.sh start)
add_test(NAME net.http.faults.stop COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/http_faults.sh stop)
set_tests_properties(net.http.nginx.start net.http.nginx.stop net.http.faults.start
  net.http.faults.stop PROPERTIES ENVIRONMENT "${PG_HTTP_TEST_ENV}" TIMEOUT 60)
set_tests_properties(net.http.nginx.start PROPERTIES FIXTURES_SETUP pg_nginx)
set_tests_properties(net.http.nginx.stop PROPERTIES FIXTURES_CLEANUP pg_nginx)
set_tests_properties(net.http.faults.start PROPERTIES FIXTURES_SETUP pg_http_faults)
set_tests_properties(net.http.faults.stop PROPERTIES FIXTURES_CLEANUP pg_http_faults)

# runner/http.c itself, against both servers.
pg_unit_test(http_client net/http_client_test.c)
set_tests_properties(unit.http_client PROPERTIES ENVIRONMENT "${PG_HTTP_TEST_ENV}"
  FIXTURES_REQUIRED "pg_nginx;pg_http_faults")
# The CLI on real suites (tests/net/http/<case>/case.json, read by
# tests/integration/run_case.py): exit code, statuses, messages, reports.
file(GLOB pg_http_cases LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/net/http/*)
foreach(dir ${pg_http_cases})
  if(EXISTS ${dir}/case.json)
    get_filename_component(name ${dir} NAME)
    add_test(NAME net.http.${name}
      COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_case.py ${dir})
    set_tests_properties(net.http.${name} PROPERTIES ENVIRONMENT "${PG_HTTP_TEST_ENV}" TIMEOUT 120
      FIXTURES_REQUIRED "pg_nginx;pg_http_faults")
  endif()
endforeach()
# "No answer at all": a blackholed address in a private network namespace
# (skipped where namespaces cannot be made).
add_test(NAME net.http.blackhole COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/http_blackhole.sh)
set_tests_properties(net.http.blackhole PROPERTIES ENVIRONMENT "${PG_HTTP_TEST_ENV}" TIMEOUT 60
  SKIP_RETURN_CODE 77)
# --- end http ---

# --- dns/prometheus ---
# Fixtures: dnsmasq on 127.0.0.1:15353 plus a silent UDP port 15359
# (tests/net/dns.sh); Prometheus on 127.0.0.1:19090 with backfilled data and
# fixtures/prometheus/fake_api.py on 19100 (tests/net/prometheus.sh).
add_test(NAME net.dns.start COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/dns.sh start)
add_test(NAME net.dns.stop COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/dns.sh stop)
add_test(NAME net.prom.start COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/prometheus.sh start)
add_test(NAME net.prom.stop COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/prometheus.sh stop)
set_tests_properties(net.dns.start net.dns.stop net.prom.start net.prom.stop PROPERTIES
  ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)
set_tests_properties(net.dns.start PROPERTIES FIXTURES_SETUP pg_dns)
set_tests_properties(net.dns.stop PROPERTIES FIXTURES_CLEANUP pg_dns)
set_tests_properties(net.prom.start PROPERTIES FIXTURES_SETUP pg_prom)
set_tests_properties(net.prom.stop PROPERTIES FIXTURES_CLEANUP pg_prom)

# Data-driven CLI cases: a suite and its expected exit code, statuses and
# messages (tests/net/dns/expect_run.py reads the case file).
foreach(case records failures gate bad pool pool-stop)
  add_test(NAME net.dns.${case} COMMAND ${PG_PYTHON3}
    ${CMAKE_CURRENT_SOURCE_DIR}/net/dns/expect_run.py ${CMAKE_CURRENT_SOURCE_DIR}/net/dns/${case}.json)
  set_tests_properties(net.dns.${case} PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120
    FIXTURES_REQUIRED pg_dns)
endforeach()
foreach(case scrape query faults bad)
  add_test(NAME net.prom.${case} COMMAND ${PG_PYTHON3}
    ${CMAKE_CURRENT_SOURCE_DIR}/net/dns/expect_run.py ${CMAKE_CURRENT_SOURCE_DIR}/net/prom/${case}.json)
  set_tests_properties(net.prom.${case} PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120
    FIXTURES_REQUIRED pg_prom)
endforeach()
# `promtool check rules` and our rules check must count the same rules.
add_test(NAME net.prom.rules COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/prom/rule_count.sh)
set_tests_properties(net.prom.rules PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120
  FIXTURES_REQUIRED pg_prom)

# Unit tests: the exposition format parser, DNS reply decoding and the
# dns module's channel pool.
pg_unit_test(prom_text net/prom/promtext_test.c)
pg_unit_test(dns_reply net/dns/reply_test.c)
# The dns module's channel pool, against the DNS world above.
pg_unit_test(dns_pool net/dns/pool_test.c)
set_tests_properties(unit.dns_pool PROPERTIES FIXTURES_REQUIRED pg_dns)
# --- end dns/prometheus ---

# The pid files of the test servers: a recorded PID is signalled only when
# its command line proves it is that server (tests/net/pidlib.sh).
add_test(NAME net.pidlib COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/pidlib_test.sh)
