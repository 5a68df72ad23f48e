# erisd exits 2 on usage errors (see erisd(8), EXIT STATUS), before it
# touches any store or socket.
foreach(args "--bogus" "--listen;nonsense" "--max-connections;0"
             "--idle-timeout;x" "--cache-size;1K" "--cache-size;12Q"
             "--cache-size;-1" "extra-argument")
  execute_process(COMMAND ${CMD} ${args} RESULT_VARIABLE rc
    OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 2)
    message(FATAL_ERROR "erisd ${args}: exit status ${rc}, expected 2")
  endif()
endforeach()
