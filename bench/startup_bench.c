/*
 * startup_bench.c - eris-startup-bench: how long a process of the
 * programs takes when it has almost nothing to do, against patchelf
 * (docs/PERFORMANCE.md, "Process start-up").
 *
 * In one run, interleaved (the order turns every round), N times each:
 *
 *   true              /bin/true, the floor: fork, exec and libc alone
 *   eris sum          `eris sum` of a 1-byte file
 *   erispatch         `erispatch print-needed` of a small ELF program
 *   patchelf          `patchelf --print-needed` of the same program
 *
 * The ELF program is a hello world linked against libm, built here with
 * cc. Each process is started with posix_spawn and reaped with wait4:
 * wall time from before the spawn to after the reap, CPU time (user +
 * system) from the child's rusage. Reports the median and mean of both,
 * the ratios to patchelf (target: at most 1.5), the libraries each
 * program is linked with (ldd) and the dynamic loader's own statistics
 * (LD_DEBUG=statistics) of one run of each.
 *
 * Usage: eris-startup-bench [--runs N] [--patchelf PATH]
 * Never part of ctest. Without patchelf the comparison is left out.
 */
#define _GNU_SOURCE
#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef ERIS_BENCH_ERIS
#define ERIS_BENCH_ERIS ""
#endif
#ifndef ERIS_BENCH_ERISPATCH
#define ERIS_BENCH_ERISPATCH ""
#endif
#ifndef ERIS_BENCH_BUILD_TYPE
#define ERIS_BENCH_BUILD_TYPE ""
#endif

enum { MAX_ARGS = 4, MAX_CMDS = 4 };

typedef struct command {
	const char *name;
	const char *argv[MAX_ARGS + 1];
	double *wall, *cpu; /* milliseconds, one per run */
} command;

static const char *prog = "eris-startup-bench";

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/*
 * Run argv (searched in PATH) with stdout to /dev/null and stderr to
 * `err_fd` (/dev/null if -1), extra_env added; its exit status (127 if
 * it could not be started), wall and CPU milliseconds.
 */
static int run(const char *const argv[], const char *extra_env, int err_fd,
	       double *wall, double *cpu)
{
	posix_spawn_file_actions_t fa;
	char *envp[256];
	size_t n = 0;
	struct rusage ru;
	pid_t pid;
	int status, rc;

	if (extra_env)
		envp[n++] = (char *)extra_env;
	for (char **e = environ; *e && n < 255; e++)
		envp[n++] = *e;
	envp[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (err_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
						 0);
	double t0 = now_ms();
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
			  envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return 127;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	double t1 = now_ms();
	if (wall)
		*wall = t1 - t0;
	if (cpu)
		*cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) *
			       1e-3;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, size_t n, double *scratch)
{
	memcpy(scratch, v, n * sizeof(*v));
	qsort(scratch, n, sizeof(*v), cmp_double);
	return n % 2 ? scratch[n / 2] :
		       (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
}

static double mean(const double *v, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

/* The first line a command prints, or "" (for versions). */
static void first_line(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");

	out[0] = '\0';
	if (!p)
		return;
	if (fgets(out, (int)size, p))
		out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

/* The file posix_spawnp runs for `name` (the shell's `command -v` would
 * name its builtin `true`). */
static void find_in_path(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");

	snprintf(out, size, "%s", name);
	if (strchr(name, '/') || !path)
		return;
	while (*path) {
		size_t len = strcspn(path, ":");

		snprintf(out, size, "%.*s/%s", (int)len, path, name);
		if (access(out, X_OK) == 0)
			return;
		path += len + (path[len] == ':');
	}
	snprintf(out, size, "%s", name);
}

/* The file names of the libraries ldd lists for `path`, on one line. */
static void print_ldd(const char *name, const char *path)
{
	char cmd[4300], line[1024];
	int count = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ldd '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return;
	printf("  %-10s", name);
	while (fgets(line, sizeof(line), p)) {
		char lib[512];

		if (sscanf(line, " %511s", lib) != 1 ||
		    strncmp(lib, "linux-vdso", 10) == 0)
			continue;
		char *slash = strrchr(lib, '/');
		printf(" %s", slash ? slash + 1 : lib);
		count++;
	}
	pclose(p);
	printf("  (%d)\n", count);
}

/* The number after `key` ("...: N cycles" or "...: N") in the loader's
 * statistics, first occurrence (it prints a second set at exit); -1 if
 * absent. */
static double ld_number(const char *text, const char *key)
{
	const char *at = strstr(text, key);

	if (!at || !(at = strchr(at, ':')))
		return -1;
	return strtod(at + 1, NULL);
}

/* The time-stamp counter's ticks per millisecond, which the loader's
 * statistics count in on x86; 0 elsewhere (then only cycles are shown). */
static double tsc_per_ms(void)
{
#if defined(__x86_64__) || defined(__i386__)
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	double t0 = now_ms();
	unsigned long long c0 = __builtin_ia32_rdtsc();

	nanosleep(&pause, NULL);
	return (double)(__builtin_ia32_rdtsc() - c0) / (now_ms() - t0);
#else
	return 0;
#endif
}

enum { LD_RUNS = 51 };
enum { LD_TOTAL, LD_RELOC, LD_LOAD, LD_NRELOC, LD_NRELATIVE, LD_KEYS };

/* LD_DEBUG=statistics of LD_RUNS runs: the medians of the loader's
 * start-up time, its relocation and loading parts, and the counts. */
static void print_ld_statistics(const command *c, const char *dir,
				double per_ms)
{
	static const char *const keys[LD_KEYS] = {
		"total startup time in dynamic loader",
		"time needed for relocation", "time needed to load objects",
		"number of relocations:", "number of relative relocations"
	};
	double v[LD_KEYS][LD_RUNS], med[LD_KEYS], scratch[LD_RUNS];
	char path[4200], text[8192];

	snprintf(path, sizeof(path), "%s/ld-statistics", dir);
	for (int r = 0; r < LD_RUNS; r++) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		ssize_t got;

		if (fd < 0)
			die("cannot create %s", path);
		run(c->argv, "LD_DEBUG=statistics", fd, NULL, NULL);
		got = pread(fd, text, sizeof(text) - 1, 0);
		close(fd);
		text[got > 0 ? got : 0] = '\0';
		for (int k = 0; k < LD_KEYS; k++)
			v[k][r] = ld_number(text, keys[k]);
	}
	for (int k = 0; k < LD_KEYS; k++)
		med[k] = median(v[k], LD_RUNS, scratch);
	printf("| %s | %.0f | %.0f | %.0f | %.0f (%.0f relative) |",
	       c->name, med[LD_TOTAL], med[LD_RELOC], med[LD_LOAD],
	       med[LD_NRELOC], med[LD_NRELATIVE]);
	if (per_ms > 0)
		printf(" %.3f |", med[LD_TOTAL] / per_ms);
	printf("\n");
}

/* Write and compile the small ELF program (a hello world that needs
 * libm) into dir; its path in out. */
static void build_elf(const char *dir, char *out, size_t size)
{
	char src[4200];
	FILE *f;

	snprintf(src, sizeof(src), "%s/hello.c", dir);
	snprintf(out, size, "%s/hello", dir);
	f = fopen(src, "w");
	if (!f)
		die("cannot write %s", src);
	fputs("#include <math.h>\n#include <stdio.h>\n"
	      "int main(int argc, char **argv)\n"
	      "{\n\t(void)argv;\n"
	      "\tprintf(\"hello %f\\n\", sqrt((double)argc + 1.0));\n"
	      "\treturn 0;\n}\n", f);
	fclose(f);
	const char *cc[] = { "cc", "-O2", "-o", out, src, "-lm", NULL };
	if (run(cc, NULL, -1, NULL, NULL) != 0)
		die("cannot build %s with cc (gcc)", out);
}

int main(int argc, char **argv)
{
	long runs = 300;
	const char *patchelf = "patchelf";
	char dir[4096], one[4200], elf[4200];
	char cpu[256], version[256];
	command cmds[MAX_CMDS];
	size_t ncmds = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--patchelf") == 0 && i + 1 < argc)
			patchelf = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--runs N] [--patchelf PATH]\n",
				prog);
			return 2;
		}
	}
	if (runs < 3 || runs > 100000)
		die("--runs: between 3 and 100000");
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/eris-startup-bench.XXXXXX",
		 tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	snprintf(one, sizeof(one), "%s/one", dir);
	FILE *f = fopen(one, "w");
	if (!f || fputc('x', f) == EOF || fclose(f) != 0)
		die("cannot write %s", one);
	build_elf(dir, elf, sizeof(elf));

	cmds[ncmds++] = (command){ .name = "true", .argv = { "true" } };
	cmds[ncmds++] = (command){ .name = "eris sum",
				   .argv = { ERIS_BENCH_ERIS, "sum", one } };
	if (ERIS_BENCH_ERISPATCH[0])
		cmds[ncmds++] = (command){
			.name = "erispatch",
			.argv = { ERIS_BENCH_ERISPATCH, "print-needed", elf }
		};
	int have_patchelf = 0;
	const char *pv[] = { patchelf, "--version", NULL };
	if (run(pv, NULL, -1, NULL, NULL) == 0) {
		cmds[ncmds++] = (command){
			.name = "patchelf",
			.argv = { patchelf, "--print-needed", elf }
		};
		have_patchelf = 1;
	} else {
		printf("patchelf not found (Debian package patchelf): no "
		       "comparison, only the programs' own times.\n");
	}
	/* Each must work before it is timed. */
	for (size_t c = 0; c < ncmds; c++) {
		int rc = run(cmds[c].argv, NULL, -1, NULL, NULL);

		if (rc != 0) {
			fprintf(stderr, "%s: %s exited with %d\n", prog,
				cmds[c].name, rc);
			return 1;
		}
		cmds[c].wall = malloc((size_t)runs * sizeof(double));
		cmds[c].cpu = malloc((size_t)runs * sizeof(double));
		if (!cmds[c].wall || !cmds[c].cpu)
			die("out of memory");
		for (int w = 0; w < 10; w++) /* warm the page cache */
			run(cmds[c].argv, NULL, -1, NULL, NULL);
	}

	for (long r = 0; r < runs; r++)
		for (size_t k = 0; k < ncmds; k++) {
			command *c = &cmds[(k + (size_t)r) % ncmds];

			run(c->argv, NULL, -1, &c->wall[r], &c->cpu[r]);
		}

	double load[3] = { 0, 0, 0 };
	getloadavg(load, 3);
	bench_cpu_model(cpu, sizeof(cpu));
	printf("Process start-up, %ld runs of each, interleaved; %ld CPUs "
	       "(%s); load average %.2f %.2f %.2f; eris build %s\n",
	       runs, sysconf(_SC_NPROCESSORS_ONLN), cpu, load[0], load[1],
	       load[2], ERIS_BENCH_BUILD_TYPE);
	if (have_patchelf) {
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "'%s' --version 2>&1", patchelf);
		first_line(cmd, version, sizeof(version));
		printf("%s\n", version);
	}
	printf("\n| per process, ms | wall median | wall mean | CPU median "
	       "| CPU mean |\n| --- | --- | --- | --- | --- |\n");
	double *scratch = malloc((size_t)runs * sizeof(double));
	double wmed[MAX_CMDS], cmed[MAX_CMDS];
	if (!scratch)
		die("out of memory");
	for (size_t c = 0; c < ncmds; c++) {
		wmed[c] = median(cmds[c].wall, (size_t)runs, scratch);
		cmed[c] = median(cmds[c].cpu, (size_t)runs, scratch);
		printf("| %s | %.3f | %.3f | %.3f | %.3f |\n", cmds[c].name,
		       wmed[c], mean(cmds[c].wall, (size_t)runs), cmed[c],
		       mean(cmds[c].cpu, (size_t)runs));
	}
	if (have_patchelf) {
		size_t p = ncmds - 1;

		printf("\nRatios of medians to patchelf (target: at most "
		       "1.50):\n");
		for (size_t c = 1; c < p; c++)
			printf("  %-10s wall %.2f, CPU %.2f  %s\n",
			       cmds[c].name, wmed[c] / wmed[p],
			       cmed[c] / cmed[p],
			       wmed[c] / wmed[p] <= 1.5 ? "met" : "MISSED");
	}
	printf("\nLinked libraries (ldd):\n");
	for (size_t c = 0; c < ncmds; c++) {
		char path[4200];

		find_in_path(cmds[c].argv[0], path, sizeof(path));
		print_ldd(cmds[c].name, path);
	}
	double per_ms = tsc_per_ms();
	printf("\nThe dynamic loader's own work (LD_DEBUG=statistics, "
	       "medians of %d runs, cycles):\n\n", LD_RUNS);
	printf("| | start-up in ld.so | relocation | loading objects | "
	       "relocations |%s\n| --- | --- | --- | --- | --- |%s\n",
	       per_ms > 0 ? " start-up, ms |" : "",
	       per_ms > 0 ? " --- |" : "");
	for (size_t c = 0; c < ncmds; c++)
		print_ld_statistics(&cmds[c], dir, per_ms);

	for (size_t c = 0; c < ncmds; c++) {
		free(cmds[c].wall);
		free(cmds[c].cpu);
	}
	free(scratch);
	char rm[4200];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "%s: could not remove %s\n", prog, dir);
	return 0;
}
