/*
 * s3_bench.c - eris-s3-bench: put and get blocks/s of 32 KiB blocks
 * through an s3:// store, at 1 and 16 requests in flight, beside a bare
 * libcurl SigV4 client doing the same requests in the same run (see
 * docs/PERFORMANCE.md, "S3 store").
 *
 *   eris-s3-bench [N]     N blocks per phase (default 512)
 *
 * The server and the credentials come from the AWS_* variables as for
 * the eris programs, the bucket from ERIS_TEST_S3_BUCKET (default
 * "eris"); every phase writes under a prefix of its own. The store at 16
 * in flight is 16 threads sharing one store (each single request runs on
 * a handle of its own); the bare client at 16 is one curl multi handle
 * with 16 transfers. Store gets are verified (hashed), the bare client's
 * are not. A first, unmeasured round of bare puts warms the server up.
 */
#include "progenv.h"

#include <eris/eris.h>
#include <sodium.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 32768
#define WIDE 16

static size_t n_blocks = 512;
static uint8_t *blocks;        /* n_blocks * BLOCK */
static uint8_t (*refs)[32];
static const char *bucket;
static char run_id[32];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "eris-s3-bench: %s: %s\n", what, eris_error_last());
	exit(1);
}

/* ---- through the store ---------------------------------------------- */

typedef struct {
	eris_store *s;
	int put;
	size_t first, step;
} job;

static void *worker(void *p)
{
	job *j = p;
	static _Thread_local uint8_t buf[BLOCK];

	for (size_t i = j->first; i < n_blocks; i += j->step) {
		size_t len;
		int rc = j->put ? eris_store_put(j->s, refs[i],
						 blocks + i * BLOCK, BLOCK)
				: eris_store_get(j->s, refs[i], buf,
						 sizeof(buf), &len);

		if (rc != ERIS_OK)
			die(j->put ? "store put" : "store get");
	}
	return NULL;
}

static double store_phase(const char *phase, int put, int wide)
{
	eris_store_options opts = progenv_store_options(0);
	char spec[512];
	pthread_t t[WIDE];
	job jobs[WIDE];
	eris_store *s;
	int n = wide ? WIDE : 1;
	double t0;

	snprintf(spec, sizeof(spec), "s3://%s/bench-%s-store-%s", bucket,
		 run_id, phase);
	if (eris_store_open_opts(&s, spec, &opts) != ERIS_OK)
		die(spec);
	t0 = now();
	for (int k = 0; k < n; k++) {
		jobs[k] = (job){s, put, (size_t)k, (size_t)n};
		pthread_create(&t[k], NULL, worker, &jobs[k]);
	}
	for (int k = 0; k < n; k++)
		pthread_join(t[k], NULL);
	t0 = now() - t0;
	eris_store_free(s);
	return (double)n_blocks / t0;
}

/* ---- the bare libcurl SigV4 client ---------------------------------- */

typedef struct {
	CURL *e;
	char url[1024];
	uint8_t buf[BLOCK];
	size_t len;
} bare;

static size_t bare_write(char *d, size_t size, size_t n, void *p)
{
	bare *b = p;

	n *= size;
	if (n > BLOCK - b->len)
		return 0;
	memcpy(b->buf + b->len, d, n);
	b->len += n;
	return n;
}

static struct curl_slist *headers;
static char sigv4[128];

static void bare_setup(bare *b, const char *phase, size_t i, int put)
{
	char name[53];

	eris_base32_encode(name, refs[i], 32);
	snprintf(b->url, sizeof(b->url), "%s/%s/bench-%s-bare-%s/%s",
		 getenv("AWS_ENDPOINT_URL"), bucket, run_id, phase, name);
	if (b->e == NULL)
		b->e = curl_easy_init();
	else
		curl_easy_reset(b->e);
	b->len = 0;
	curl_easy_setopt(b->e, CURLOPT_URL, b->url);
	curl_easy_setopt(b->e, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(b->e, CURLOPT_USERNAME, getenv("AWS_ACCESS_KEY_ID"));
	curl_easy_setopt(b->e, CURLOPT_PASSWORD,
			 getenv("AWS_SECRET_ACCESS_KEY"));
	curl_easy_setopt(b->e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(b->e, CURLOPT_WRITEFUNCTION, bare_write);
	curl_easy_setopt(b->e, CURLOPT_WRITEDATA, (void *)b);
	curl_easy_setopt(b->e, CURLOPT_PRIVATE, (void *)b);
	if (put) {
		curl_easy_setopt(b->e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(b->e, CURLOPT_POSTFIELDS,
				 (const void *)(blocks + i * BLOCK));
		curl_easy_setopt(b->e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)BLOCK);
	}
}

static void bare_check(bare *b, CURLcode res, int put)
{
	long status = 0;

	curl_easy_getinfo(b->e, CURLINFO_RESPONSE_CODE, &status);
	if (res != CURLE_OK || status != 200 || (!put && b->len != BLOCK)) {
		fprintf(stderr, "eris-s3-bench: bare %s: %s, HTTP %ld\n",
			put ? "PUT" : "GET", curl_easy_strerror(res), status);
		exit(1);
	}
}

static double bare_phase(const char *phase, int put, int wide)
{
	static bare pool[WIDE];
	double t0 = now();

	if (!wide) {
		for (size_t i = 0; i < n_blocks; i++) {
			bare_setup(&pool[0], phase, i, put);
			bare_check(&pool[0], curl_easy_perform(pool[0].e), put);
		}
	} else {
		CURLM *m = curl_multi_init();
		size_t next = 0, active = 0;
		int busy[WIDE] = {0};

		while (next < n_blocks || active > 0) {
			int running, left;
			CURLMsg *msg;

			for (int k = 0; k < WIDE && next < n_blocks; k++) {
				if (busy[k])
					continue;
				bare_setup(&pool[k], phase, next++, put);
				curl_multi_add_handle(m, pool[k].e);
				busy[k] = 1;
				active++;
			}
			curl_multi_perform(m, &running);
			if (running > 0)
				curl_multi_poll(m, NULL, 0, 1000, NULL);
			while ((msg = curl_multi_info_read(m, &left))) {
				char *priv;
				bare *b;

				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(msg->easy_handle,
						  CURLINFO_PRIVATE, &priv);
				b = (bare *)(void *)priv;
				bare_check(b, msg->data.result, put);
				curl_multi_remove_handle(m, b->e);
				busy[b - pool] = 0;
				active--;
			}
		}
		curl_multi_cleanup(m);
	}
	return (double)n_blocks / (now() - t0);
}

int main(int argc, char **argv)
{
	static const char *const names[4] = {"put, 1 in flight",
					      "get, 1 in flight",
					      "put, 16 in flight",
					      "get, 16 in flight"};
	const char *region;

	if (argc > 1)
		n_blocks = strtoul(argv[1], NULL, 10);
	if (n_blocks == 0 || progenv_configure("eris-s3-bench") != ERIS_OK ||
	    sodium_init() < 0)
		return 2;
	if (!getenv("AWS_ENDPOINT_URL") || !getenv("AWS_ACCESS_KEY_ID") ||
	    !getenv("AWS_SECRET_ACCESS_KEY")) {
		fprintf(stderr, "eris-s3-bench: set AWS_ENDPOINT_URL, "
				"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
				"(tools/ceph-up.sh DIR --rgw prints them)\n");
		return 2;
	}
	bucket = getenv("ERIS_TEST_S3_BUCKET");
	if (bucket == NULL || bucket[0] == '\0')
		bucket = "eris";
	region = getenv("AWS_REGION");
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3",
		 region && region[0] ? region : "us-east-1");
	snprintf(run_id, sizeof(run_id), "%ld", (long)getpid());
	curl_global_init(CURL_GLOBAL_DEFAULT);
	headers = curl_slist_append(NULL,
				    "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	blocks = malloc(n_blocks * BLOCK);
	refs = malloc(n_blocks * sizeof(*refs));
	if (!blocks || !refs || !headers)
		return 1;
	randombytes_buf(blocks, n_blocks * BLOCK);
	for (size_t i = 0; i < n_blocks; i++)
		crypto_generichash(refs[i], 32, blocks + i * BLOCK, BLOCK,
				   NULL, 0);
	printf("eris-s3-bench: %zu blocks of 32 KiB per phase, %s\n",
	       n_blocks, getenv("AWS_ENDPOINT_URL"));
	/* Not measured: a fresh radosgw is slow on its first writes. */
	bare_phase("warm", 1, 1);
	printf("%-20s %12s %12s %8s\n", "", "store/s", "libcurl/s", "ratio");
	for (int w = 0; w < 2; w++) {
		/* put first: the gets read what the puts wrote. */
		const char *phase = w ? "16" : "1";
		double sp = store_phase(phase, 1, w), bp = bare_phase(phase, 1, w);
		double sg = store_phase(phase, 0, w), bg = bare_phase(phase, 0, w);

		printf("%-20s %12.0f %12.0f %7.2fx\n", names[2 * w], sp, bp,
		       sp / bp);
		printf("%-20s %12.0f %12.0f %7.2fx\n", names[2 * w + 1], sg, bg,
		       sg / bg);
		fflush(stdout);
	}
	return 0;
}
