# Every dependency comes from Debian's packages (scripts/install-deps); nothing is fetched.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)

# moodycamel ships no CMake config on Debian: one find_path and an IMPORTED INTERFACE target.
find_path(MOODYCAMEL_INCLUDE_DIR NAMES concurrentqueue/concurrentqueue.h REQUIRED)
find_path(MOODYCAMEL_RWQ_INCLUDE_DIR NAMES readerwriterqueue/readerwriterqueue.h REQUIRED)
add_library(moodycamel INTERFACE IMPORTED)
target_include_directories(moodycamel SYSTEM INTERFACE ${MOODYCAMEL_INCLUDE_DIR} ${MOODYCAMEL_RWQ_INCLUDE_DIR})
add_library(moodycamel::queues ALIAS moodycamel)

find_package(simdjson CONFIG REQUIRED)
if(XARB_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(XARB_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
