# The Debian package (CPack): binaries, systemd unit, default config, national and example
# tables. `cd build && cpack -G DEB`; deploy/check-package.sh inspects the result.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/switchboard.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/gateway.example.yaml DESTINATION /etc/switchboard
        RENAME gateway.yaml)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/routing-tables/national ${PROJECT_SOURCE_DIR}/routing-tables/example
                  ${PROJECT_SOURCE_DIR}/routing-tables/reference
        DESTINATION share/switchboard/routing-tables)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/switchboard)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME switchboard)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "Switchboard 12333 developers <switchboard@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "12333 national call-transfer gateway (SIP proxy routing by region from Redis)")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-server")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/deploy/debian/postinst;${PROJECT_SOURCE_DIR}/deploy/debian/prerm;${PROJECT_SOURCE_DIR}/deploy/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
