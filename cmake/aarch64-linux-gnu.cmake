# Cross build for aarch64 Linux with Debian's gcc-aarch64-linux-gnu; ctest runs the tests under
# qemu-user. make check-aarch64 sets everything up:
#
#   scripts/aarch64-sysroot.sh build-aarch64-sysroot
#   cmake -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DCORIO_AARCH64_SYSROOT=$PWD/build-aarch64-sysroot/root
#
# CORIO_AARCH64_SYSROOT holds Debian's arm64 Criterion and its libraries; the C library is the
# cross toolchain's own (/usr/aarch64-linux-gnu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)

set(CORIO_AARCH64_SYSROOT "" CACHE PATH "Unpacked arm64 packages (Criterion and its libraries)")
set(CORIO_QEMU_LD_PREFIX /usr/aarch64-linux-gnu)
find_program(CORIO_QEMU NAMES qemu-aarch64 qemu-aarch64-static REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${CORIO_QEMU} -L ${CORIO_QEMU_LD_PREFIX})

set(CMAKE_FIND_ROOT_PATH ${CORIO_QEMU_LD_PREFIX})
if(CORIO_AARCH64_SYSROOT)
    list(APPEND CMAKE_FIND_ROOT_PATH "${CORIO_AARCH64_SYSROOT}")
    set(_sysroot_libs
        "${CORIO_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu"
        "${CORIO_AARCH64_SYSROOT}/lib/aarch64-linux-gnu")
    # Criterion's own dependencies (libgit2, nanomsg, ...) are needed at link time only to
    # resolve libcriterion.so's references; at run time the tests get them from
    # LD_LIBRARY_PATH inside qemu (see CMakeLists.txt). The cross C library comes first there:
    # where Debian's libc6:arm64 is installed too, the loader would otherwise take some glibc
    # pieces (libresolv) from /lib/aarch64-linux-gnu and the rest from the cross toolchain, and
    # that mix hangs in pthread_create.
    set(CORIO_QEMU_GUEST_LIBPATH "${CORIO_QEMU_LD_PREFIX}/lib" ${_sysroot_libs})
    foreach(_dir IN LISTS _sysroot_libs)
        string(APPEND CMAKE_EXE_LINKER_FLAGS_INIT " -Wl,-rpath-link,${_dir}")
    endforeach()
    # OpenSSL's configuration.h is in the arm64 multiarch include directory.
    include_directories(SYSTEM "${CORIO_AARCH64_SYSROOT}/usr/include/aarch64-linux-gnu")
    # pkg-config looks only at the arm64 packages.
    set(ENV{PKG_CONFIG_LIBDIR} "${CORIO_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${CORIO_AARCH64_SYSROOT}/usr/share/pkgconfig")
    set(ENV{PKG_CONFIG_SYSROOT_DIR} "${CORIO_AARCH64_SYSROOT}")
else()
    set(ENV{PKG_CONFIG_LIBDIR} "${CORIO_QEMU_LD_PREFIX}/lib/pkgconfig")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
