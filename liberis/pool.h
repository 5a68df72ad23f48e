/*
 * pool.h - a small fixed thread pool running "parallel for" jobs: task
 * i = 0 .. n-1 of a job is run once, by a worker or by the calling thread,
 * and eris__pool_run() returns when every task has finished. One job at a
 * time; the pool belongs to one encoder or decoder. Each task is told
 * which thread runs it (a slot, 0 for the caller), so that it may use
 * that thread's scratch memory: a few cache-hot kilobytes per thread
 * instead of a batch-sized buffer.
 */
#ifndef ERIS_POOL_H
#define ERIS_POOL_H

#include <stddef.h>

typedef struct eris__pool eris__pool;

/* A pool for `threads` threads in all: the caller and threads - 1
 * workers. threads <= 1 gives *out = NULL, which runs jobs inline.
 * Returns ERIS_OK or ERIS_ENOMEM / ERIS_ERROR (thread creation failed). */
int eris__pool_new(eris__pool **out, unsigned threads);

/* Run fn(ctx, i, slot) for every i < n; returns when all have run. The
 * slot is the running thread's, < the pool's thread count, and no two
 * tasks with the same slot run at once. NULL runs them in order on the
 * calling thread, slot 0. */
void eris__pool_run(eris__pool *pool, size_t n,
		    void (*fn)(void *ctx, size_t i, unsigned slot), void *ctx);

/* The same in two halves, so that the caller can do other work while the
 * workers start on the tasks: start publishes the job and returns at once
 * (fn and ctx must stay valid until the wait); wait takes the tasks left,
 * on the calling thread too, and returns when all have run. One job at a
 * time: every start is followed by a wait before the next start. A NULL
 * pool runs the tasks inline, in the wait. */
void eris__pool_start(eris__pool *pool, size_t n,
		      void (*fn)(void *ctx, size_t i, unsigned slot),
		      void *ctx);
void eris__pool_wait(eris__pool *pool, size_t n,
		     void (*fn)(void *ctx, size_t i, unsigned slot),
		     void *ctx);

/* Stop and join the workers. NULL is allowed. */
void eris__pool_free(eris__pool *pool);

/* The number of online CPUs, at least 1. */
unsigned eris__cpu_count(void);

#endif
