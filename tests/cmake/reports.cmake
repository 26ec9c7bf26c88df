# tests of the reports area: the result model (JSON round trip, loading)
# and every report writer (JUnit checked with xmllint against the schema and
# read back with junitparser, Markdown escaping, console output).
find_program(PG_XMLLINT xmllint)

pg_unit_test(result unit/test_result.c reports/model.c)
target_link_libraries(result PRIVATE phasegate_reports)

pg_unit_test(reports unit/test_reports.c reports/model.c)
target_link_libraries(reports PRIVATE phasegate_reports)
set_property(TEST unit.reports APPEND PROPERTY ENVIRONMENT
  "PG_PYTHON3=${PG_PYTHON3}"
  "PG_XMLLINT=${PG_XMLLINT}"
  "PG_REPORTS_TMP=${CMAKE_CURRENT_BINARY_DIR}/reports-work")

# The HTML go-live report rendered in headless Chromium: verdict on the
# first screen, no script runs, sections in the Markdown report's order.
add_test(NAME reports.html-chromium
  COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/reports/html/check_html.py)
set_tests_properties(reports.html-chromium PROPERTIES ENVIRONMENT "${PG_TEST_ENV}"
  TIMEOUT 180 SKIP_RETURN_CODE 77)

# The writers produce byte-identical reports on the recorded cases: the test
# models rendered straight from memory and demo runs through `phasegate
# report` (tests/reports/golden.py; --record re-records).
add_executable(golden_render reports/golden_render.c reports/model.c)
target_link_libraries(golden_render PRIVATE phasegate_reports pg_warnings pg_sanitize)
add_test(NAME reports.golden
  COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/reports/golden.py)
set_tests_properties(reports.golden PROPERTIES
  ENVIRONMENT "${PG_TEST_ENV};PG_GOLDEN_RENDER=$<TARGET_FILE:golden_render>"
  TIMEOUT 300)
