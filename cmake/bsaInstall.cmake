# Install rules: headers, static libraries, the CMake package (find_package(bsa CONFIG)
# gives bsa::bsa and bsa::hosted) and the pkg-config file (bsa.pc, core library only).
include(CMakePackageConfigHelpers)

set(BSA_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/bsa")

install(TARGETS bsa bsa_hosted
        EXPORT bsaTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/core/include/bsa.h"
              "${PROJECT_SOURCE_DIR}/core/ports/hosted/bsa_hosted.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT bsaTargets NAMESPACE bsa:: FILE bsaTargets.cmake
        DESTINATION "${BSA_CMAKE_DIR}")

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/bsaConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/bsaConfig.cmake" INSTALL_DESTINATION "${BSA_CMAKE_DIR}")
# 0.x: a minor bump may break the API, so only the same minor version is compatible.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/bsaConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/bsaConfig.cmake"
              "${PROJECT_BINARY_DIR}/bsaConfigVersion.cmake"
        DESTINATION "${BSA_CMAKE_DIR}")

# bsa.pc is written at install time, not configure time, so that it names the prefix
# actually installed to (`cmake --install build --prefix P` overrides the configured one).
install(CODE "
  set(BSA_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  set(BSA_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(BSA_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(PROJECT_VERSION \"${PROJECT_VERSION}\")
  foreach(dir BSA_PC_LIBDIR BSA_PC_INCLUDEDIR)
    if(NOT IS_ABSOLUTE \"\${\${dir}}\")
      set(\${dir} \"\\\${prefix}/\${\${dir}}\")
    endif()
  endforeach()
  configure_file(\"${CMAKE_CURRENT_LIST_DIR}/bsa.pc.in\" \"${PROJECT_BINARY_DIR}/bsa.pc\" @ONLY)
")
install(FILES "${PROJECT_BINARY_DIR}/bsa.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
