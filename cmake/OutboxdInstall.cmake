# Install layout and Debian packages (issue 12). Included from the top-level CMakeLists.txt after the
# built-in plugins are added.
#
# `cmake --install <build> --prefix P` (any P) gives a working tree:
#   P/bin/outboxd, P/bin/outboxctl
#   P/<libdir>/outboxd/plugins/*.so         the built-in plugins (0644, folder 0755: what outboxd's
#                                           plugin file policy accepts when root or the user owns P)
#   P/etc/outboxd/outboxd.json              the example configuration (/etc/... when P is /usr)
#   P/lib/systemd/system/outboxd.service    the unit (/lib/systemd/system when P is /usr)
#   P/share/man/man8/outboxd.8.gz, outboxctl.8.gz, P/share/doc/outboxd/
#   P/include/obx/, P/<libdir>/cmake/outboxd-sdk/   the SDK (component `sdk`, sdk/CMakeLists.txt)
# The compiled-in default plugin_dir is <CMAKE_INSTALL_FULL_LIBDIR>/outboxd/plugins of the configure
# step; a tree installed elsewhere names its folder in plugin_dir.
#
# `cpack` (packaging/build-deb.sh) makes two packages from components:
#   outboxd          component `outboxd`: daemon, CLI, plugins, config (conffile), unit, docs, man
#   outboxd-sdk-dev  component `sdk`: headers, CMake package, linker script (Architecture: all)
# The packages are meant for a build configured with -DCMAKE_INSTALL_PREFIX=/usr
# -DCMAKE_INSTALL_LIBDIR=lib (build-deb.sh does it), so that the default plugin_dir is
# /usr/lib/outboxd/plugins.
include(GNUInstallDirs)

set(OBX_INSTALL_PLUGIN_DIR ${CMAKE_INSTALL_LIBDIR}/outboxd/plugins)
set(OBX_DEFAULT_PLUGIN_DIR ${CMAKE_INSTALL_FULL_LIBDIR}/outboxd/plugins)
# Only config.cc sees it, so a change of prefix recompiles one file.
set_source_files_properties(${PROJECT_SOURCE_DIR}/host/src/config/config.cc
  TARGET_DIRECTORY obx_config
  PROPERTIES COMPILE_DEFINITIONS "OBX_DEFAULT_PLUGIN_DIR=\"${OBX_DEFAULT_PLUGIN_DIR}\"")

set(OBX_PKG_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(OBX_PKG_BUILD_DIR ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${OBX_PKG_BUILD_DIR})
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(OBX_FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# --- Binaries and built-in plugins ------------------------------------------------------------
install(TARGETS outboxd outboxctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT outboxd)
install(TARGETS discovery_sql discovery_static handler_exec handler_log
        LIBRARY DESTINATION ${OBX_INSTALL_PLUGIN_DIR} PERMISSIONS ${OBX_FILE_PERMISSIONS}
        COMPONENT outboxd)

# --- Documentation: man pages, docs, copyright, changelog ------------------------------------------
# The man pages are generated from the built binaries' --help and --version by help2man (so they
# follow the options other changes add) plus packaging/man/*.h2m, and gzip -9n'ed as Debian wants.
# Target obx_man_pages (not in ALL: it needs help2man); packaging/build-deb.sh builds it, and a plain
# `cmake --install` installs the pages only when they were built.
find_program(OBX_HELP2MAN help2man)
foreach(app outboxd outboxctl)
  set(page ${OBX_PKG_BUILD_DIR}/${app}.8)
  if(OBX_HELP2MAN)
    set(generate ${OBX_HELP2MAN} --no-info --section=8 --include=${OBX_PKG_DIR}/man/${app}.h2m
                 --output=${page} $<TARGET_FILE:${app}>)
  else()
    set(generate ${CMAKE_COMMAND} -E echo "help2man is missing: bash packaging/install-deps.sh"
                 COMMAND false)
  endif()
  add_custom_command(OUTPUT ${page}.gz COMMAND ${generate}
    COMMAND gzip -9nf ${page} DEPENDS ${app} ${OBX_PKG_DIR}/man/${app}.h2m VERBATIM)
  list(APPEND OBX_MAN_PAGES ${page}.gz)
endforeach()
add_custom_target(obx_man_pages DEPENDS ${OBX_MAN_PAGES})
install(FILES ${OBX_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 OPTIONAL
        PERMISSIONS ${OBX_FILE_PERMISSIONS} COMPONENT outboxd)
configure_file(${OBX_PKG_DIR}/debian/changelog.in ${OBX_PKG_BUILD_DIR}/changelog.Debian @ONLY)
execute_process(COMMAND gzip -9nf ${OBX_PKG_BUILD_DIR}/changelog.Debian
                WORKING_DIRECTORY ${OBX_PKG_BUILD_DIR} COMMAND_ERROR_IS_FATAL ANY)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/design.md
              ${PROJECT_SOURCE_DIR}/docs/configuration.md ${PROJECT_SOURCE_DIR}/docs/store.md
              ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/semantics.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} PERMISSIONS ${OBX_FILE_PERMISSIONS} COMPONENT outboxd)
foreach(pair "outboxd;outboxd" "sdk;outboxd-sdk-dev")
  list(GET pair 0 component)
  list(GET pair 1 package)
  install(FILES ${OBX_PKG_DIR}/debian/copyright ${OBX_PKG_BUILD_DIR}/changelog.Debian.gz
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package}
          PERMISSIONS ${OBX_FILE_PERMISSIONS} COMPONENT ${component})
endforeach()

# --- /etc/outboxd/outboxd.json and the systemd unit ---------------------------------------------
# Like GNUInstallDirs' rule for SYSCONFDIR, decided at install time (the prefix may be overridden
# by `cmake --install --prefix`): prefix /usr -> /etc and /lib/systemd/system, anything else ->
# <prefix>/etc and <prefix>/lib/systemd/system. The unit names the binaries under the prefix.
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(obx_etc \"/etc\")
    set(obx_unit_dir \"/lib/systemd/system\")
  else()
    set(obx_etc \"\${CMAKE_INSTALL_PREFIX}/etc\")
    set(obx_unit_dir \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
  endif()
  set(OBX_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(OBX_CONFIG \"\${obx_etc}/outboxd/outboxd.json\")
  configure_file(\"${OBX_PKG_DIR}/systemd/outboxd.service.in\"
                 \"${OBX_PKG_BUILD_DIR}/install-unit/outboxd.service\" @ONLY)
  file(INSTALL DESTINATION \"\${obx_etc}/outboxd\" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES \"${OBX_PKG_DIR}/outboxd.json\")
  file(INSTALL DESTINATION \"\${obx_unit_dir}\" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES \"${OBX_PKG_BUILD_DIR}/install-unit/outboxd.service\")
" COMPONENT outboxd)

# --- CPack: the two .deb packages (CPack indents the description lines itself; an empty line
# becomes " .") ----------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME outboxd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "outboxd")
set(CPACK_PACKAGE_CONTACT "outboxd maintainers <outboxd-maintainers@example.org>")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)          # absolute /etc and /lib/systemd paths above go into the package
set(CPACK_STRIP_FILES ON)          # lintian: unstripped-binary-or-object
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL outboxd sdk)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # <name>_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)

set(CPACK_DEBIAN_OUTBOXD_PACKAGE_NAME outboxd)
set(CPACK_DEBIAN_OUTBOXD_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_OUTBOXD_PACKAGE_SHLIBDEPS ON)   # library dependencies from dpkg-shlibdeps
# adduser and init-system-helpers: the maintainer scripts; procps: /bin/kill in ExecReload.
set(CPACK_DEBIAN_OUTBOXD_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.54~), procps")
set(CPACK_DEBIAN_OUTBOXD_PACKAGE_SUGGESTS "outboxd-sdk-dev")
set(CPACK_DEBIAN_OUTBOXD_DESCRIPTION "transactional-outbox relay for database-per-tenant systems
outboxd finds every tenant database through a discovery plugin, claims due
outbox messages with leases, hands each one to the handler plugin for its
topic and records the outcome, retrying with backoff. Tenants are SQLite
files or PostgreSQL databases; plugins are shared objects loaded (and hot
reloaded) from /usr/lib/outboxd/plugins.

This package holds the daemon, the outboxctl command, the built-in
plugins (sql and static discovery, exec and log handlers), an example
configuration and a hardened systemd unit.")
configure_file(${OBX_PKG_DIR}/debian/conffiles ${OBX_PKG_BUILD_DIR}/control/conffiles COPYONLY)
foreach(script postinst prerm postrm)
  configure_file(${OBX_PKG_DIR}/debian/${script} ${OBX_PKG_BUILD_DIR}/control/${script} COPYONLY)
  list(APPEND OBX_CONTROL_EXTRA ${OBX_PKG_BUILD_DIR}/control/${script})
endforeach()
set(CPACK_DEBIAN_OUTBOXD_PACKAGE_CONTROL_EXTRA
    ${OBX_PKG_BUILD_DIR}/control/conffiles ${OBX_CONTROL_EXTRA})

set(CPACK_DEBIAN_SDK_PACKAGE_NAME outboxd-sdk-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SDK_PACKAGE_ARCHITECTURE all)   # headers and CMake files only
set(CPACK_DEBIAN_SDK_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS "")
set(CPACK_DEBIAN_SDK_PACKAGE_SUGGESTS "cmake (>= 3.22), nlohmann-json3-dev")
set(CPACK_DEBIAN_SDK_DESCRIPTION "plugin SDK for outboxd (C ABI headers and CMake package)
Headers of the stable C ABI that outboxd plugins implement, the
header-only C++ layer, a fake host for plugin unit tests, the linker
version script, and the CMake package: find_package(outboxd-sdk) then
outboxd_add_plugin() builds a discovery or handler plugin.")

include(CPack)
