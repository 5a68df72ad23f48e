/*
 * machine.h - what the benchmarks print about the machine they ran on.
 */
#ifndef ERIS_BENCH_MACHINE_H
#define ERIS_BENCH_MACHINE_H

#include <stddef.h>

/* The CPU's model name (Linux's /proc/cpuinfo), or "unknown CPU". */
void bench_cpu_model(char *out, size_t size);

#endif
