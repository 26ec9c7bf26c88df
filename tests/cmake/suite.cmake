# tests of the suite loader (runner/suite.c): the small suites under
# unit/suites/ loaded into plans, every validation error with its position.
# The same test source, built with PG_SUITE_PLUGIN, is a tiny external
# module ("gadget") the test loads to exercise module init/parse/fini.
pg_unit_test(suite unit/test_suite.c)

add_library(suite_gadget MODULE unit/test_suite.c)
target_compile_definitions(suite_gadget PRIVATE PG_SUITE_PLUGIN)
set_target_properties(suite_gadget PROPERTIES PREFIX "" OUTPUT_NAME gadget
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/suite-plugins)
target_include_directories(suite_gadget PRIVATE ${CMAKE_SOURCE_DIR}/runner)
target_link_libraries(suite_gadget PRIVATE PkgConfig::JANSSON pg_warnings)
target_link_options(suite_gadget PRIVATE -Wl,--no-undefined)

add_dependencies(suite suite_gadget)
set_property(TEST unit.suite APPEND PROPERTY ENVIRONMENT
  "PG_SUITE_PLUGIN_DIR=${CMAKE_CURRENT_BINARY_DIR}/suite-plugins")
