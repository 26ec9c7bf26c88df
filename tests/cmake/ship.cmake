# Shipping: the HTML report in a real browser, the suite schema checked by an
# independent validator, the Debian package installed and used, the
# container recipe, help/man/completion, the in-cluster manifests.

# The HTML go-live report in headless Chromium is reports.html-chromium
# (tests/cmake/reports.cmake).

# phasegate schema: every shipped suite validates with python3-jsonschema,
# and what the loader refuses for a key, the schema refuses too.
add_test(NAME ship.schema
  COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/schema/check_schema.py)
set_tests_properties(ship.schema PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 120)

# The command line: help per command, did-you-mean, options that do not
# apply, --require go, list --ids, and bash/zsh/fish completion.
add_test(NAME ship.cli COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/check_cli.sh)
set_tests_properties(ship.cli PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 300)

# The Debian package: cpack, lintian, dpkg -i, then the installed binary,
# man pages, completion and plugin SDK (the package is removed afterwards).
add_test(NAME ship.deb COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/packaging/check_deb.sh)
set_tests_properties(ship.deb PROPERTIES
  ENVIRONMENT "${PG_TEST_ENV};PG_SANITIZE=${PHASEGATE_SANITIZE}"
  TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# The container recipe: its shape always; the image where an engine exists.
add_test(NAME ship.container COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/packaging/check_container.sh)
set_tests_properties(ship.container PROPERTIES ENVIRONMENT "${PG_TEST_ENV}"
  TIMEOUT 1200 SKIP_RETURN_CODE 77)

# docs/ci.md: the recipes parse, their command runs, GitLab's JUnit rules hold.
add_test(NAME ship.ci-recipes COMMAND ${PG_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/ci/check_ci_docs.py)
set_tests_properties(ship.ci-recipes PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 60)

# Fleets over three simulators (ports 16661-16663): run --context,
# run --kubeconfig-dir, merge; NO-GO because of the broken world.
add_test(NAME ship.fleet COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fleet/check_fleet.sh)
set_tests_properties(ship.fleet PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 300)

# deploy/: kubectl applies the manifests to the simulator (port 16664); the
# run as in the pod, with only the generated RBAC, publishes; collect reads.
add_test(NAME ship.deploy COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/deploy/check_deploy.sh)
set_tests_properties(ship.deploy PROPERTIES ENVIRONMENT "${PG_TEST_ENV}" TIMEOUT 300)
