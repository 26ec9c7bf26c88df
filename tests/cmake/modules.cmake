# tests of the modules area: the process runner (runner/proc.c), the local
# check modules (exec, file, tcp, manual + attestations) and the loading of
# an external module built from tests/plugin/sample_plugin.c.
pg_unit_test(proc unit/test_proc.c)
pg_unit_test(mod_local unit/test_modules_local.c)

# The sample external module: a shared object exporting phasegate_module.
# It uses only libc and jansson (no runner symbols), so it loads into any
# host; --no-undefined proves that at link time.
add_library(sample_plugin MODULE plugin/sample_plugin.c)
set_target_properties(sample_plugin PROPERTIES PREFIX "" OUTPUT_NAME sample
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/plugins)
target_include_directories(sample_plugin PRIVATE ${CMAKE_SOURCE_DIR}/runner)
target_link_libraries(sample_plugin PRIVATE PkgConfig::JANSSON pg_warnings)
target_link_options(sample_plugin PRIVATE -Wl,--no-undefined)

pg_unit_test(plugin plugin/test_plugin.c)
add_dependencies(plugin sample_plugin)
set_property(TEST unit.plugin APPEND PROPERTY ENVIRONMENT
  "PG_PLUGIN_DIR=${CMAKE_CURRENT_BINARY_DIR}/plugins")
