# What `cmake --install` puts where (beside bin/ops, installed in the top-level file), and
# the CPack setup for the Debian package:
#   cpack --config build/CPackConfig.cmake -B /tmp/ops-deb     ->  /tmp/ops-deb/ops_<version>_<arch>.deb
# Included at the end of the top-level CMakeLists.txt.

# The systemd units beside the binary. OPTIONAL and the pattern are evaluated at install time,
# so the folder and its files may appear after configuring.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/packaging/systemd/
  DESTINATION lib/systemd/system
  OPTIONAL
  FILES_MATCHING PATTERN "*.service" PATTERN "*.timer")

# The account the units run as, created by the package's postinst with systemd-sysusers.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/sysusers/ops.conf DESTINATION lib/sysusers.d)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/ops.env.example DESTINATION share/doc/ops/examples)
# The Prometheus alert rules for the metrics files (docs/OBSERVABILITY_BASELINE.md shows them).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/prometheus/ops-alerts.yml
  DESTINATION share/doc/ops/examples PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The documentation: README.md and docs/*.md side by side in share/doc/ops (the units'
# Documentation= lines point there), docs/commands/*.md in share/doc/ops/commands.
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/ops)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/
  DESTINATION share/doc/ops
  FILES_MATCHING PATTERN "*.md")

set(OPS_PACKAGE_MAINTAINER "ops maintainers <maintainers@users.noreply.r-seed-77f94b73.example>"
  CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ops)
set(CPACK_PACKAGE_VENDOR "ops maintainers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${OPS_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "maintenance CLI for a multi-tenant Laravel application's PostgreSQL database")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_NAME ops)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${OPS_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The extended description; CPack puts the summary above it as the synopsis line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "One binary for operators, cron/systemd timers and CI smoke tests: archives old
audit_events to verified JSONL files (and restores them), redrives transiently
failed WhatsApp messages onto the application's Laravel queue, reconciles
monthly quota usage from orders, and checks connection, schema, privileges and
the archive folder (ops doctor).")
# Depends: the Debian packages of the shared libraries the binary links, from dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/postinst)

include(CPack)

# The packaging test (tests/packaging): only in a normal build; a sanitizer build's binary is
# never what gets packaged.
if(OPS_BUILD_TESTS AND NOT OPS_SANITIZE)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/packaging ${PROJECT_BINARY_DIR}/tests/packaging)
endif()
