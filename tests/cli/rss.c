/*
 * rss.c - encoding 1 GiB from a pipe keeps the memory small at any thread
 * count: `eris sum --threads N -` is fed the 1 GiB large-content vector
 * stream (ERIS digest §7: the ChaCha20-IETF keystream under the key
 * BLAKE2b-256("1GiB (block size 32KiB)")) through a pipe; it must print
 * the published URN, and its peak resident set (ru_maxrss from wait4)
 * must stay under 16 MiB.
 *
 * Usage: test_rss ERIS-BINARY THREADS...
 */
#include <sodium.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define STREAM_BYTES ((uint64_t)1 << 30)
#define CHUNK ((size_t)1 << 20)
#define LIMIT_KIB 16384L

static const char VECTOR_NAME[] = "1GiB (block size 32KiB)";
static const char VECTOR_URN[] =
	"urn:eris:B4BL4DKSEOPGMYS2CU2OFNYCH4BGQT774GXKGURLFO5FDXAQQPJGJ35AZR3PEK6"
	"CVCV74FVTAXHRSWLUUNYYA46ZPOPDOV2M5NVLBETWVI";

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Run `eris sum` on the stream; 0 if the URN and the peak RSS are right. */
static int run(const char *eris, const char *threads, uint8_t *chunk,
	       const uint8_t key[32])
{
	static const uint8_t nonce[12] = { 0 };
	int in[2], out[2], status;
	char line[256] = { 0 };
	size_t got = 0;
	struct rusage ru;
	ssize_t r;
	pid_t pid;

	if (pipe(in) < 0 || pipe(out) < 0) {
		perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execl(eris, eris, "sum", "-q", "--threads", threads, "-",
		      (char *)NULL);
		perror("exec");
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	for (uint64_t off = 0; off < STREAM_BYTES; off += CHUNK) {
		memset(chunk, 0, CHUNK);
		crypto_stream_chacha20_ietf_xor_ic(chunk, chunk, CHUNK, nonce,
						   (uint32_t)(off / 64), key);
		if (write_all(in[1], chunk, CHUNK) < 0) {
			perror("write to eris sum");
			break;
		}
	}
	close(in[1]);
	while (got < sizeof(line) - 1 &&
	       (r = read(out[0], line + got, sizeof(line) - 1 - got)) > 0)
		got += (size_t)r;
	close(out[0]);
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 1;
	}
	printf("--threads %s: exit %d, peak RSS %ld KiB, output: %s", threads,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1, ru.ru_maxrss,
	       line);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	if (strncmp(line, VECTOR_URN, strlen(VECTOR_URN)) != 0) {
		printf("  expected %s\n", VECTOR_URN);
		return 1;
	}
	if (ru.ru_maxrss >= LIMIT_KIB) {
		printf("  peak RSS over %ld KiB\n", LIMIT_KIB);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t key[32], *chunk;
	int failed = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s ERIS-BINARY THREADS...\n", argv[0]);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	chunk = malloc(CHUNK);
	if (chunk == NULL)
		return 1;
	crypto_generichash_blake2b(key, 32, (const uint8_t *)VECTOR_NAME,
				   strlen(VECTOR_NAME), NULL, 0);
	for (int i = 2; i < argc; i++)
		failed |= run(argv[1], argv[i], chunk, key);
	free(chunk);
	return failed;
}
