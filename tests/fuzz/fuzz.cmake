# Fuzzing (issue 11, docs/fuzzing.md). Included from tests/CMakeLists.txt.
# The main tree builds with g++; libFuzzer needs clang, so the fuzz targets are
# a separate CMake project (tests/fuzz/CMakeLists.txt) built into build/fuzz
# by ExternalProject on every build (a no-op when nothing changed). It links
# this build's libaftersales_proto.so instead of recompiling the generated
# code. Each target gets a short ctest run over its checked-in seed corpus.
find_program(AFTERSALES_CLANGXX NAMES clang++-14 clang++)
file(GLOB AFTERSALES_FUZZER_RUNTIME
     /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a)
if(NOT AFTERSALES_CLANGXX OR NOT AFTERSALES_FUZZER_RUNTIME)
  message(WARNING "clang++ or libFuzzer (libclang-rt-14-dev) missing: no fuzz targets")
  return()
endif()

include(ExternalProject)
set(AFTERSALES_FUZZ_DIR ${PROJECT_BINARY_DIR}/fuzz)
ExternalProject_Add(aftersales_fuzz
  SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz
  BINARY_DIR ${AFTERSALES_FUZZ_DIR}
  CMAKE_ARGS
    -DCMAKE_CXX_COMPILER=${AFTERSALES_CLANGXX}
    -DCMAKE_BUILD_TYPE=Release
    -DAFTERSALES_SOURCE_DIR=${PROJECT_SOURCE_DIR}
    -DAFTERSALES_PROTO_LIB=$<TARGET_FILE:aftersales_proto>
    -DAFTERSALES_PROTO_INCLUDE=${PROJECT_BINARY_DIR}/proto/gen
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  DEPENDS aftersales_proto
  USES_TERMINAL_BUILD ON)

include(${CMAKE_CURRENT_SOURCE_DIR}/fuzz/targets.cmake)
foreach(target ${AFTERSALES_FUZZ_TARGETS})
  add_test(NAME ${target}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz.sh
                   ${AFTERSALES_FUZZ_DIR}/${target}
                   ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${target}
                   ${AFTERSALES_FUZZ_DIR}/runs/${target}
                   -max_total_time=5 -rss_limit_mb=1024)
  set_tests_properties(${target} PROPERTIES LABELS fuzz TIMEOUT 120)
endforeach()
