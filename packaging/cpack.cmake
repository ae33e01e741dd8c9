# packaging/cpack.cmake - the Debian package: `cpack -G DEB` in the build directory
# (included by the top CMakeLists.txt). Installs, with prefix /usr:
#   /usr/bin/logferry                         (install(TARGETS) in the top CMakeLists.txt)
#   /etc/logferry/agent.conf                  conffile, from packaging/agent.conf.production
#   /usr/lib/systemd/system/logferry.service  unprivileged, hardened unit
#   /usr/share/man/man8/logferry.8.gz         from packaging/logferry.8
#   /usr/share/logferry/kibana/               packaging/kibana/* when present
#   /usr/share/doc/logferry/                  README and the user guides in docs/
#   /var/lib/logferry                         state (registry, dead letters), owned by logferry
# Maintainer scripts (packaging/debian/): postinst creates the `logferry` system user in
# group adm; prerm stops the service on removal; postrm purges the state.
set(LF_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})

install(FILES ${LF_PKG_DIR}/agent.conf.production DESTINATION /etc/logferry
        RENAME agent.conf PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${LF_PKG_DIR}/logferry.service DESTINATION lib/systemd/system)
install(DIRECTORY DESTINATION /var/lib/logferry)

# Debian wants man pages compressed without a timestamp (gzip -n) for reproducibility.
find_program(LF_GZIP gzip)
if(LF_GZIP)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/logferry.8.gz
    COMMAND ${LF_GZIP} -9nc ${LF_PKG_DIR}/logferry.8 > ${CMAKE_BINARY_DIR}/logferry.8.gz
    DEPENDS ${LF_PKG_DIR}/logferry.8 VERBATIM)
  add_custom_target(logferry_manpage ALL DEPENDS ${CMAKE_BINARY_DIR}/logferry.8.gz)
  install(FILES ${CMAKE_BINARY_DIR}/logferry.8.gz DESTINATION share/man/man8)
else()
  install(FILES ${LF_PKG_DIR}/logferry.8 DESTINATION share/man/man8)
endif()

if(EXISTS ${LF_PKG_DIR}/kibana)
  install(DIRECTORY ${LF_PKG_DIR}/kibana/ DESTINATION share/logferry/kibana)
endif()
# User documentation: the README and every guide in docs/ except the developers' ones.
file(GLOB LF_USER_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
list(FILTER LF_USER_DOCS EXCLUDE REGEX "/(HACKING|ARCHITECTURE)\\.md$")
if(EXISTS ${CMAKE_SOURCE_DIR}/README.md)
  list(APPEND LF_USER_DOCS ${CMAKE_SOURCE_DIR}/README.md)
endif()
install(FILES ${LF_USER_DOCS} DESTINATION share/doc/logferry)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME logferry)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "logferry maintainers <logferry@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "per-host log shipper and HTTP 5xx alerter")
# CPack puts the summary on the first line and indents these lines itself.
set(CPACK_PACKAGE_DESCRIPTION
"logferry tails application and access logs through inotify, parses each line
into an Elastic Common Schema JSON event and ships it to Kafka, Elasticsearch
or an NDJSON file, committing a file's offset only after every output
acknowledged it (at-least-once). It posts to Slack when an HTTP 5xx appears.

The package installs a hardened systemd unit running as the unprivileged
user logferry (group adm) and a default configuration reading nginx and
Spring Boot logs under /var/log with no output enabled.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Runtime libraries, as Debian 12 names them (the versions are bookworm's); adduser for the
# maintainer scripts; procps for the unit's ExecReload=/bin/kill (not in a minimal system).
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libc6 (>= 2.34), libinotifytools0 (>= 3.22), libpcre2-8-0 (>= 10.42), librdkafka1 (>= 2.0), libcurl4 (>= 7.88), libjansson4 (>= 2.14), libinih1 (>= 55), libmicrohttpd12 (>= 0.9.75), zlib1g, libyaml-0-2 (>= 0.2.5), libssl3 (>= 3.0), libdeflate0 (>= 1.14), adduser, procps")
# dpkg-shlibdeps (dpkg-dev, pulled in by build-essential) adds the exact package and minimum
# version of every library the binary links, e.g. zlib1g when an output compresses.
find_program(LF_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(LF_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${LF_PKG_DIR}/debian/conffiles ${LF_PKG_DIR}/debian/postinst
  ${LF_PKG_DIR}/debian/prerm ${LF_PKG_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# Absolute destinations (/etc, /var) are intended for this package.
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)
include(CPack)
