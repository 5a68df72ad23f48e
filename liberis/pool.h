/*
 * pool.h - a small fixed thread pool running "parallel for" jobs: task
 * i = 0 .. n-1 of a job is run once, by a worker or by the calling thread,
 * and eris__pool_run() returns when every task has finished. One job at a
 * time; the pool belongs to one encoder or decoder.
 */
#ifndef ERIS_POOL_H
#define ERIS_POOL_H

#include <stddef.h>

typedef struct eris__pool eris__pool;

/* A pool for `threads` threads in all: the caller and threads - 1
 * workers. threads <= 1 gives *out = NULL, which runs jobs inline.
 * Returns ERIS_OK or ERIS_ENOMEM / ERIS_ERROR (thread creation failed). */
int eris__pool_new(eris__pool **out, unsigned threads);

/* Run fn(ctx, i) for every i < n; returns when all have run. NULL runs
 * them in order on the calling thread. */
void eris__pool_run(eris__pool *pool, size_t n,
		    void (*fn)(void *ctx, size_t i), void *ctx);

/* Stop and join the workers. NULL is allowed. */
void eris__pool_free(eris__pool *pool);

/* The number of online CPUs, at least 1. */
unsigned eris__cpu_count(void);

#endif
