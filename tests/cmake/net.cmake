# tests of the network modules (real servers on 127.0.0.1)

# --- http ---
# Fixtures: nginx (tests/net/nginx.sh, ports 18080 18443-18446) and the fault
# server (tests/net/http_faults.sh, ports 18090-18094), started once for every
# test that needs them and stopped after the last one.
add_test(NAME net.http.nginx.start COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/nginx.sh start)
add_test(NAME net.http.nginx.stop COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/nginx.sh stop)
add_test(NAME net.http.faults.start COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/http_faults.sh start)
add_test(NAME net.http.faults.stop COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/net/http_faults.sh stop)
set_tests_properties(net.http.nginx.start net.http.nginx.stop net.http.faults.start
  net.http.faults.stop PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)
set_tests_properties(net.http.nginx.start PROPERTIES FIXTURES_SETUP pg_nginx)
set_tests_properties(net.http.nginx.stop PROPERTIES FIXTURES_CLEANUP pg_nginx)
set_tests_properties(net.http.faults.start PROPERTIES FIXTURES_SETUP pg_http_faults)
set_tests_properties(net.http.faults.stop PROPERTIES FIXTURES_CLEANUP pg_http_faults)

# runner/http.c itself, against both servers.
pg_unit_test(http_client net/http_client_test.c)
set_tests_properties(unit.http_client PROPERTIES ENVIRONMENT "${PG_TEST_ENV}"
  FIXTURES_REQUIRED "pg_nginx;pg_http_faults")
# --- end http ---
