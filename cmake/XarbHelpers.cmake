# xarb_add_library(NAME [HEADERS dir] SOURCES ... PUBLIC_DEPS ... PRIVATE_DEPS ...)
# One library per folder: target xarb_<name>, alias xarb::<name>, public headers in a FILE_SET
# under include/xarb/<dir> (default <name>) so VERIFY_INTERFACE_HEADER_SETS compiles each one on
# its own. app/'s rooms are libraries app_<room> whose headers all sit in include/xarb/app.
function(xarb_add_library name)
  cmake_parse_arguments(ARG "" "HEADERS" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  if(NOT ARG_HEADERS)
    set(ARG_HEADERS ${name})
  endif()
  set(target xarb_${name})
  add_library(${target} ${ARG_SOURCES})
  add_library(xarb::${name} ALIAS ${target})
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS
    "${CMAKE_CURRENT_SOURCE_DIR}/include/xarb/${ARG_HEADERS}/*.hpp")
  target_sources(${target} PUBLIC FILE_SET HEADERS
    BASE_DIRS "${CMAKE_CURRENT_SOURCE_DIR}/include" FILES ${headers})
  set_target_properties(${target} PROPERTIES VERIFY_INTERFACE_HEADER_SETS ON)
  target_include_directories(${target} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/src")
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} xarb::warnings)
endfunction()

# xarb_add_test(NAME SOURCES ... DEPS ... [LABELS ...])
function(xarb_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main xarb::warnings)
  if(TARGET xarb_test_support)
    target_link_libraries(${name} PRIVATE xarb_test_support)  # shared data paths, d("0.01")
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
  # The tsan preset builds only what it runs: `cmake --build --preset tsan --target xarb_concurrency_tests`.
  if("concurrency" IN_LIST ARG_LABELS)
    if(NOT TARGET xarb_concurrency_tests)
      add_custom_target(xarb_concurrency_tests)
    endif()
    add_dependencies(xarb_concurrency_tests ${name})
  endif()
endfunction()

# xarb_add_bench(NAME SOURCES ... DEPS ...)
function(xarb_add_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark xarb::warnings)
  if(XARB_MARCH_NATIVE)
    target_compile_options(${name} PRIVATE -march=native)
  endif()
endfunction()

# simdjson's on-demand API takes its SIMD kernel from the compile flags, not at run time: without
# them it is the scalar fallback. The parsers are built for the best kernel the build host runs
# (haswell: AVX2 + PCLMUL; westmere: SSE4.2 + PCLMUL). Set XARB_PARSER_ARCH to build for another
# host; "none" gives the portable fallback.
set(XARB_PARSER_ARCH "auto" CACHE STRING "-march for the JSON parsers: auto, haswell, westmere or none")
set(XARB_PARSER_MARCH "${XARB_PARSER_ARCH}")
if(XARB_PARSER_MARCH STREQUAL "auto")
  set(XARB_PARSER_MARCH "none")
  if(EXISTS /proc/cpuinfo AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    file(STRINGS /proc/cpuinfo cpu_flags REGEX "^flags" LIMIT_COUNT 1)
    if(cpu_flags MATCHES " avx2" AND cpu_flags MATCHES " pclmulqdq" AND cpu_flags MATCHES " bmi1")
      set(XARB_PARSER_MARCH "haswell")
    elseif(cpu_flags MATCHES " sse4_2" AND cpu_flags MATCHES " pclmulqdq")
      set(XARB_PARSER_MARCH "westmere")
    endif()
  endif()
endif()
message(STATUS "xarb: JSON parsers built with -march=${XARB_PARSER_MARCH}")

# xarb_json_sources(files...): sources that parse JSON with simdjson's on-demand API. They are built
# for the kernel chosen above and with exceptions off, so that an unchecked simdjson error does not
# compile (simdjson doc/performance.md); simdjson stays out of every public header.
function(xarb_json_sources)
  set(options -fno-exceptions)
  if(NOT XARB_PARSER_MARCH STREQUAL "none")
    list(APPEND options -march=${XARB_PARSER_MARCH})
  endif()
  set_source_files_properties(${ARGN} PROPERTIES
    COMPILE_OPTIONS "${options}" COMPILE_DEFINITIONS "SIMDJSON_EXCEPTIONS=0")
endfunction()
