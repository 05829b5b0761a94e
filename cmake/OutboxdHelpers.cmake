# Per-target build helpers (after spdlog's cmake/utils.cmake): warnings, sanitizers, plugins, tests.

function(obx_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wcast-align -Wunused
                         $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Woverloaded-virtual>)
  if(OBX_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(obx_enable_sanitizers target)
  if(OBX_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${OBX_SANITIZE} -fno-omit-frame-pointer
                           -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${OBX_SANITIZE})
  endif()
endfunction()

# obx_in_tree_plugin(<target> <output-dir>): what outboxd's own build adds to a plugin made with
# the SDK's outboxd_add_plugin() (sdk/cmake/outboxd-sdk-plugin.cmake, the rule plugin authors get):
# the output folder, our warnings and our sanitizers.
function(obx_in_tree_plugin target output_dir)
  set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${output_dir})
  obx_enable_warnings(${target})
  obx_enable_sanitizers(${target})
endfunction()

# obx_add_test(<name> SOURCES a_test.cc ... [LIBS lib ...])
function(obx_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  obx_enable_warnings(${name})
  obx_enable_sanitizers(${name})
  include(GoogleTest)
  # Where the build and source trees are; the OBX_BUILD_DIR / OBX_SOURCE_DIR environment variables
  # override them (gtest_discover_tests cannot pass a list of several variables through ENVIRONMENT).
  target_compile_definitions(${name} PRIVATE OBX_TEST_BUILD_DIR="${PROJECT_BINARY_DIR}"
                             OBX_TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # 15 minutes: the slowest integration test creates 500 PostgreSQL databases (ctest's --timeout
  # is only the default for tests without this property).
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 900)
endfunction()
