/*
 * loop.h - erisd's io_uring network loop.
 */
#ifndef ERISD_LOOP_H
#define ERISD_LOOP_H

#include "cmd.h"

/*
 * Check that io_uring works here and has every operation the loop uses.
 * @return 0, or -1 with a reason in `why` (`size` bytes).
 */
int loop_probe(char *why, size_t size);

/*
 * Serve `listen_fd` (a listening TCP socket) until SIGTERM or SIGINT
 * (which must be blocked in every thread before the call): then stop
 * accepting, finish the requests in flight and return 0. The caller
 * flushes and closes the store. Returns 1 on a fatal setup error.
 */
int loop_run(const erisd_config *cfg, int listen_fd);

#endif
