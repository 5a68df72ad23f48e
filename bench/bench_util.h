/*
 * bench_util.h - the few helpers every benchmark program needs: a
 * monotonic clock, dying with the library's message, and malloc that
 * cannot fail quietly. Header-only: each benchmark is one program.
 */
#ifndef ERIS_BENCH_UTIL_H
#define ERIS_BENCH_UTIL_H

#include <eris/eris.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The program's name in messages; each benchmark sets it in main(). */
static const char *bench_name = "bench";

/* Seconds on the monotonic clock. */
static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Report a failed liberis call and exit. */
static inline void bench_die(const char *what, int rc)
{
	fprintf(stderr, "%s: %s failed: %s (%s)\n", bench_name, what,
		eris_strerror(rc), eris_error_last());
	exit(1);
}

static inline void *bench_xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fprintf(stderr, "%s: out of memory (%zu bytes)\n", bench_name,
			n);
		exit(1);
	}
	return p;
}

#endif
