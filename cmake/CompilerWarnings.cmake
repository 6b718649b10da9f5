# Warnings live on an INTERFACE target that every project target links PRIVATE,
# so they never leak to consumers (cpp-best-practices/cmake_template).
add_library(xarb_warnings INTERFACE)
add_library(xarb::warnings ALIAS xarb_warnings)
target_compile_options(xarb_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  $<$<CXX_COMPILER_ID:GNU>:-Wmisleading-indentation -Wduplicated-cond -Wduplicated-branches -Wlogical-op -Wuseless-cast>
  $<$<BOOL:${XARB_WERROR}>:-Werror>)
