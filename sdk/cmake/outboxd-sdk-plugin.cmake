# The one plugin build rule, outboxd_add_plugin(). Included by the installed outboxd-sdk package
# (outboxd-sdkConfig.cmake) and by outboxd's own build (sdk/CMakeLists.txt), so the built-in
# plugins, the test fixtures and every plugin author build a plugin the same way. The caller sets
# the global property OUTBOXD_SDK_PLUGIN_MAP to the path of plugin.map before calling it.
include_guard(GLOBAL)

# outboxd_add_plugin(<target> SOURCES <src>... [LIBS <lib>...] [OUTPUT_NAME <name>])
# Builds <target> as a loadable module <name>.so (no "lib" prefix; <name> defaults to <target>)
# the way outboxd expects a plugin:
#   - C++17, position-independent, hidden visibility (inline functions too);
#   - a linker version script exporting only obx_plugin_entry_v1 (so nothing else, not even the
#     STB_GNU_UNIQUE symbols of inline statics, leaks out and pins the library in memory);
#   - -Wl,-z,defs: every symbol must resolve at link time, so a missing library fails the build
#     instead of the host's dlopen.
function(outboxd_add_plugin target)
  cmake_parse_arguments(ARG "" "OUTPUT_NAME" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "outboxd_add_plugin(${target}): SOURCES is required")
  endif()
  if(NOT ARG_OUTPUT_NAME)
    set(ARG_OUTPUT_NAME ${target})
  endif()
  get_property(plugin_map GLOBAL PROPERTY OUTBOXD_SDK_PLUGIN_MAP)
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${ARG_OUTPUT_NAME}
    POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${plugin_map}")
  target_compile_features(${target} PRIVATE cxx_std_17)
  target_link_libraries(${target} PRIVATE outboxd::sdk ${ARG_LIBS})
  target_link_options(${target} PRIVATE "LINKER:--version-script=${plugin_map}" "LINKER:-z,defs")
endfunction()
