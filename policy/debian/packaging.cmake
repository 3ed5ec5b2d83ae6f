# Debian packages (issue 13), built by `scripts/package` (cpack -G DEB on a build tree):
#
#   lscgate              /usr/bin/lscgate, the systemd units, /etc/lscgate/lscgate.toml
#                        (conffile), the user lscgate and /var/lib/lscgate (postinst)
#   freeradius-lscgate   rlm_lscgate.so in FreeRADIUS's module directory, mods-available/lscgate,
#                        sites-available/lscgate-*, /usr/share/freeradius/dictionary.lscgate;
#                        depends on exactly the FreeRADIUS upstream version it was built against
#
# Everything here is installed only into the packages (EXCLUDE_FROM_ALL components):
# `cmake --install` of a source build still installs just the binary and the module.

set(LSCGATE_DEB_SOURCE "${PROJECT_SOURCE_DIR}/policy/debian")
set(LSCGATE_DEB_STAGE "${PROJECT_BINARY_DIR}/debian")
set(LSCGATE_DEB_RELEASE 1)
set(LSCGATE_DEB_VERSION "${PROJECT_VERSION}-${LSCGATE_DEB_RELEASE}")
set(LSCGATE_SYSTEMD_UNITDIR "/lib/systemd/system" CACHE PATH "systemd system unit directory of the packages (Debian 12: /lib/systemd/system)")
set(LSCGATE_FR_RADDB "/etc/freeradius/3.0" CACHE PATH "FreeRADIUS raddb of the freeradius-lscgate package")

# ---- documentation: gzip -9n (no timestamp), as Debian policy wants it --------------------------
configure_file("${LSCGATE_DEB_SOURCE}/changelog.Debian" "${LSCGATE_DEB_STAGE}/changelog.Debian" @ONLY)
set(deb_docs "")
foreach(pair "${LSCGATE_DEB_STAGE}/changelog.Debian|changelog.Debian.gz" "${PROJECT_SOURCE_DIR}/README.md|README.md.gz")
  string(REPLACE "|" ";" pair "${pair}")
  list(GET pair 0 from)
  list(GET pair 1 to)
  add_custom_command(OUTPUT "${LSCGATE_DEB_STAGE}/${to}"
    COMMAND gzip -9nc "${from}" > "${LSCGATE_DEB_STAGE}/${to}"
    DEPENDS "${from}" VERBATIM)
  list(APPEND deb_docs "${LSCGATE_DEB_STAGE}/${to}")
endforeach()
add_custom_target(lscgate_deb_docs ALL DEPENDS ${deb_docs})

# ---- lscgate ------------------------------------------------------------------------------------
install(FILES "${PROJECT_SOURCE_DIR}/policy/systemd/lscgate.service"
              "${PROJECT_SOURCE_DIR}/policy/systemd/lscgate-check.service"
              "${PROJECT_SOURCE_DIR}/policy/systemd/lscgate-check.timer"
        DESTINATION "${LSCGATE_SYSTEMD_UNITDIR}" COMPONENT lscgate EXCLUDE_FROM_ALL)
install(FILES "${PROJECT_SOURCE_DIR}/policy/lscgate.toml" DESTINATION /etc/lscgate COMPONENT lscgate EXCLUDE_FROM_ALL)
install(FILES "${LSCGATE_DEB_SOURCE}/copyright" "${LSCGATE_DEB_STAGE}/changelog.Debian.gz" "${LSCGATE_DEB_STAGE}/README.md.gz"
        DESTINATION share/doc/lscgate COMPONENT lscgate EXCLUDE_FROM_ALL)
install(FILES "${LSCGATE_DEB_SOURCE}/lintian-overrides.lscgate" RENAME lscgate
        DESTINATION share/lintian/overrides COMPONENT lscgate EXCLUDE_FROM_ALL)
file(WRITE "${LSCGATE_DEB_STAGE}/lscgate/conffiles" "/etc/lscgate/lscgate.toml\n")
foreach(script postinst prerm postrm)
  configure_file("${LSCGATE_DEB_SOURCE}/lscgate/${script}" "${LSCGATE_DEB_STAGE}/lscgate/${script}" COPYONLY)
endforeach()

set(CPACK_DEBIAN_LSCGATE_PACKAGE_NAME lscgate)
set(CPACK_DEBIAN_LSCGATE_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_LSCGATE_PACKAGE_SECTION net)
set(CPACK_DEBIAN_LSCGATE_DESCRIPTION "CAPF issuer and LSC registry for Cisco IP phones
lscgate puts a Locally Significant Certificate (LSC) on each Cisco IP
phone over the CAPF protocol (TCP 3804, TLS) and records every device,
operation and certificate in a registry (SQLite, or PostgreSQL shared
by several RADIUS nodes). This package holds the command line tool,
the CAPF server run by systemd (lscgate.service) and a daily check
timer.")
set(CPACK_DEBIAN_LSCGATE_PACKAGE_CONTROL_EXTRA
    "${LSCGATE_DEB_STAGE}/lscgate/conffiles;${LSCGATE_DEB_STAGE}/lscgate/postinst;${LSCGATE_DEB_STAGE}/lscgate/prerm;${LSCGATE_DEB_STAGE}/lscgate/postrm")
set(CPACK_COMPONENTS_ALL lscgate)

# ---- freeradius-lscgate -------------------------------------------------------------------------
if(LSCGATE_FREERADIUS)
  # The version the module was compiled against (its magic is checked by radiusd at load):
  # libfreeradius-dev's upstream version X gives "freeradius (>= X), freeradius (<< X+1~)".
  execute_process(COMMAND dpkg-query -W -f=\${Version} libfreeradius-dev
                  OUTPUT_VARIABLE fr_deb_version RESULT_VARIABLE fr_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT fr_rc EQUAL 0 OR NOT fr_deb_version MATCHES "^([0-9]+:)?([0-9]+)\\.([0-9]+)\\.([0-9]+)")
    message(FATAL_ERROR "cannot tell the FreeRADIUS version of libfreeradius-dev (dpkg-query: '${fr_deb_version}')")
  endif()
  set(fr_upstream "${CMAKE_MATCH_2}.${CMAKE_MATCH_3}.${CMAKE_MATCH_4}")
  math(EXPR fr_next_patch "${CMAKE_MATCH_4} + 1")
  set(fr_next "${CMAKE_MATCH_2}.${CMAKE_MATCH_3}.${fr_next_patch}")
  # FreeRADIUS's module directory, from the package itself (where rlm_always.so lies):
  # the module's RPATH and install directory must be that one.
  execute_process(COMMAND dpkg -L freeradius OUTPUT_VARIABLE fr_files RESULT_VARIABLE fr_rc)
  string(REGEX MATCH "[^\n]*/rlm_always\\.so" fr_always "${fr_files}")
  if(NOT fr_always)
    message(FATAL_ERROR "dpkg -L freeradius lists no rlm_always.so: is the freeradius package installed?")
  endif()
  get_filename_component(fr_moddir "${fr_always}" DIRECTORY)
  if(NOT fr_moddir STREQUAL LSCGATE_FR_LIBDIR)
    message(FATAL_ERROR "the freeradius package keeps its modules in ${fr_moddir}, not LSCGATE_FR_LIBDIR=${LSCGATE_FR_LIBDIR}: "
                        "configure with -DLSCGATE_FR_LIBDIR=${fr_moddir}")
  endif()
  message(STATUS "freeradius-lscgate: for FreeRADIUS ${fr_upstream} (${fr_deb_version}), modules in ${fr_moddir}")

  set(raddb "${LSCGATE_FR_RADDB}")
  install(FILES "${PROJECT_SOURCE_DIR}/policy/mods-available/lscgate" DESTINATION "${raddb}/mods-available"
          COMPONENT radius EXCLUDE_FROM_ALL)
  set(sites lscgate-check-eap-tls lscgate-dot1x lscgate-vpn)
  set(conffiles "${raddb}/mods-available/lscgate\n")
  foreach(site ${sites})
    install(FILES "${PROJECT_SOURCE_DIR}/policy/sites-available/${site}" DESTINATION "${raddb}/sites-available"
            COMPONENT radius EXCLUDE_FROM_ALL)
    string(APPEND conffiles "${raddb}/sites-available/${site}\n")
  endforeach()
  install(FILES "${PROJECT_SOURCE_DIR}/policy/dictionary.lscgate" DESTINATION share/freeradius COMPONENT radius EXCLUDE_FROM_ALL)
  install(FILES "${LSCGATE_DEB_SOURCE}/copyright" "${LSCGATE_DEB_STAGE}/changelog.Debian.gz"
                "${PROJECT_SOURCE_DIR}/policy/lscgate-policy.toml"
          DESTINATION share/doc/freeradius-lscgate COMPONENT radius EXCLUDE_FROM_ALL)
  install(FILES "${LSCGATE_DEB_SOURCE}/README.Debian.freeradius-lscgate" RENAME README.Debian
          DESTINATION share/doc/freeradius-lscgate COMPONENT radius EXCLUDE_FROM_ALL)
  install(FILES "${LSCGATE_DEB_SOURCE}/lintian-overrides.freeradius-lscgate" RENAME freeradius-lscgate
          DESTINATION share/lintian/overrides COMPONENT radius EXCLUDE_FROM_ALL)
  file(WRITE "${LSCGATE_DEB_STAGE}/radius/conffiles" "${conffiles}")
  foreach(script postinst postrm)
    configure_file("${LSCGATE_DEB_SOURCE}/freeradius-lscgate/${script}" "${LSCGATE_DEB_STAGE}/radius/${script}" COPYONLY)
  endforeach()

  set(CPACK_DEBIAN_RADIUS_PACKAGE_NAME freeradius-lscgate)
  set(CPACK_DEBIAN_RADIUS_PACKAGE_SECTION net)
  set(CPACK_DEBIAN_RADIUS_PACKAGE_DEPENDS
      "adduser, lscgate (= ${LSCGATE_DEB_VERSION}), freeradius (>= ${fr_upstream}), freeradius (<< ${fr_next}~), libfreeradius3 (>= ${fr_upstream}), libfreeradius3 (<< ${fr_next}~)")
  set(CPACK_DEBIAN_RADIUS_DESCRIPTION "FreeRADIUS module rlm_lscgate: LSC-only 802.1X and phone VPN
rlm_lscgate decides, for every Cisco IP phone that authenticates with
EAP-TLS or is authorized for AnyConnect VPN, what its certificate is (a
valid LSC from the lscgate registry, a revoked or superseded one, a MIC)
and what the policy says about it. Built for FreeRADIUS ${fr_upstream}
exactly. The package enables nothing: link mods-enabled/lscgate and the
sites you use.")
  set(CPACK_DEBIAN_RADIUS_PACKAGE_CONTROL_EXTRA
      "${LSCGATE_DEB_STAGE}/radius/conffiles;${LSCGATE_DEB_STAGE}/radius/postinst;${LSCGATE_DEB_STAGE}/radius/postrm")
  list(APPEND CPACK_COMPONENTS_ALL radius)
endif()

# ---- CPack --------------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_PACKAGE_NAME lscgate)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "lscgate")
set(CPACK_PACKAGE_CONTACT "lscgate maintainers <lscgate@example.net>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE "${LSCGATE_DEB_RELEASE}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# rlm_lscgate and lscgate (its CoA client) link FreeRADIUS's private libraries (RPATH ${LSCGATE_FR_LIBDIR}).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${LSCGATE_FR_LIBDIR}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_OUTPUT_FILE_PREFIX "${PROJECT_BINARY_DIR}/packages")
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)
include(CPack)
