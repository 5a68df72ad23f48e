# check_guide.cmake - check that docs/guide.md contains every program of
# docs/examples/ verbatim, so the guide and the examples cannot drift.
#
# In the guide an example is included as
#
#   <!-- example: NAME.c -->
#   ```c
#   ...the file's exact contents...
#   ```
#
# Usage: cmake -DGUIDE=docs/guide.md -DEXAMPLES_DIR=docs/examples
#              -DOUT_DIR=scratch -P check_guide.cmake
cmake_minimum_required(VERSION 3.20)

foreach(var GUIDE EXAMPLES_DIR OUT_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_guide.cmake: -D${var}=... is required")
  endif()
endforeach()

set(fence "```")
file(READ "${GUIDE}" guide)
file(GLOB examples "${EXAMPLES_DIR}/*.c")
list(SORT examples)
if(NOT examples)
  message(FATAL_ERROR "no examples in ${EXAMPLES_DIR}")
endif()
file(MAKE_DIRECTORY "${OUT_DIR}")
find_program(DIFF diff)

set(failed 0)
foreach(path IN LISTS examples)
  get_filename_component(name "${path}" NAME)
  set(marker "<!-- example: ${name} -->\n${fence}c\n")
  string(FIND "${guide}" "${marker}" at)
  if(at LESS 0)
    message(SEND_ERROR "${GUIDE} does not include ${name}: expected a line "
      "\"<!-- example: ${name} -->\" followed by a ${fence}c block")
    set(failed 1)
    continue()
  endif()
  string(LENGTH "${marker}" marker_len)
  math(EXPR start "${at} + ${marker_len}")
  string(SUBSTRING "${guide}" ${start} -1 rest)
  string(FIND "${rest}" "\n${fence}\n" end)
  if(end LESS 0)
    message(SEND_ERROR "${GUIDE}: the ${fence}c block of ${name} is not closed")
    set(failed 1)
    continue()
  endif()
  math(EXPR end "${end} + 1") # keep the final newline
  string(SUBSTRING "${rest}" 0 ${end} block)
  file(READ "${path}" source)
  if(NOT "${block}" STREQUAL "${source}")
    set(copy "${OUT_DIR}/${name}.from-guide")
    file(WRITE "${copy}" "${block}")
    if(DIFF)
      execute_process(COMMAND "${DIFF}" -u "${path}" "${copy}")
    endif()
    message(SEND_ERROR "the copy of ${name} in ${GUIDE} differs from "
      "${path} (guide's copy written to ${copy})")
    set(failed 1)
  endif()
endforeach()

if(failed)
  message(FATAL_ERROR "docs/guide.md and docs/examples/ have drifted apart")
endif()
list(LENGTH examples n)
message(STATUS "docs/guide.md includes all ${n} examples verbatim")
