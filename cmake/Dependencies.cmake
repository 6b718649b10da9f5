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
find_package(nlohmann_json CONFIG REQUIRED)  # report.json; the parser benchmarks' baseline
find_package(spdlog CONFIG REQUIRED)  # the structured log of `xarb run` (JSON lines)
if(XARB_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(XARB_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()

# Boost 1.74 (Asio, Beast) with OpenSSL, compiled once: link xarb::boost to use them.
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)  # recordings kept gzip-compressed
add_library(xarb_boost STATIC ${CMAKE_CURRENT_LIST_DIR}/boost_asio_impl.cpp)
add_library(xarb::boost ALIAS xarb_boost)
target_compile_features(xarb_boost PUBLIC cxx_std_20)
target_compile_definitions(xarb_boost PUBLIC
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(xarb_boost PUBLIC Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
