# Installation and the Debian package: the binary, man pages (scdoc), shell
# completions, the guides, and the plugin SDK (module headers and
# phasegate-plugin.pc). "cpack -G DEB" in the build directory builds the
# package; its run-time dependencies come from dpkg-shlibdeps.
include(GNUInstallDirs)

install(TARGETS phasegate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# man pages, from scdoc sources, compressed as Debian wants them
find_program(PG_SCDOC scdoc)
find_program(PG_GZIP gzip)
set(PG_MAN_PAGES phasegate.1 phasegate-suite.5)
if(PG_SCDOC AND PG_GZIP)
  set(pg_man_outputs)
  foreach(page ${PG_MAN_PAGES})
    string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
    set(out ${CMAKE_BINARY_DIR}/man/${page}.gz)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND sh -c "\"$0\" < \"$1\" > \"$2\" && \"$3\" -9nf \"$2\""
        ${PG_SCDOC} ${CMAKE_SOURCE_DIR}/man/${page}.scd ${CMAKE_BINARY_DIR}/man/${page} ${PG_GZIP}
      DEPENDS ${CMAKE_SOURCE_DIR}/man/${page}.scd
      COMMENT "scdoc ${page}" VERBATIM)
    list(APPEND pg_man_outputs ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${pg_man_outputs})
else()
  message(WARNING "scdoc or gzip not found: man pages are not built (Debian: scdoc)")
endif()

install(FILES completions/phasegate.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
  RENAME phasegate)
install(FILES completions/_phasegate DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES completions/phasegate.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)

# the guides
install(FILES README.md docs/suites.md docs/results-json.md docs/kubesim.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/modules DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES docs/ci.md DESTINATION ${CMAKE_INSTALL_DOCDIR} OPTIONAL)
install(FILES packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/changelog.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
  COMMAND sh -c "gzip -9nc \"$0\" > \"$1\"" ${CMAKE_SOURCE_DIR}/packaging/changelog
    ${CMAKE_BINARY_DIR}/packaging/changelog.gz
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/changelog VERBATIM)
add_custom_target(changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/packaging/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

# the plugin SDK: module.h and the headers it includes; the .pc file has no
# library (a module runs inside phasegate), so it is architecture-independent
file(STRINGS ${CMAKE_SOURCE_DIR}/runner/module.h pg_api_line REGEX "^#define CHECK_API_VERSION ")
string(REGEX REPLACE ".* ([0-9]+).*" "\\1" PG_CHECK_API_VERSION "${pg_api_line}")
configure_file(packaging/phasegate-plugin.pc.in ${CMAKE_BINARY_DIR}/packaging/phasegate-plugin.pc @ONLY)
install(FILES runner/module.h runner/keys.h runner/node.h runner/util.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/phasegate)
install(FILES ${CMAKE_BINARY_DIR}/packaging/phasegate-plugin.pc
  DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)

# the Debian package
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME phasegate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "the phasegate authors")
set(CPACK_PACKAGE_CONTACT "phasegate maintainers <maintainers@phasegate.example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "go-live verification runner for Kubernetes and Argo CD")
# the extended description; CPack puts the summary above it and indents it
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "phasegate runs a go-live protocol written as YAML suites (phases, steps,
gates, checks, manual attestations) through check modules for Kubernetes,
Argo CD health, HTTP, DNS, Prometheus, commands, files and TCP. It stops
at the first failed gate and writes JUnit XML, a Markdown and an HTML
go-live report, and JSON results.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "kubectl, pkg-config, libjansson-dev")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
include(CPack)
