/*
 * vectors.c - runs every test vector (JSON) in a directory.
 *
 * Positive vectors: encoding the content with the given secret and block
 * size reproduces the URN and exactly the vector's block set; decoding the
 * URN against the vector's blocks gives back the content, also through
 * random-access reads; eris_verify passes.
 * Negative vectors: decoding and verifying fail with the exact error the
 * spec digest's table (§4.4) names for the official vectors 13-24, or the
 * rule in the "x-expected-error" field of our own vectors.
 *
 * Usage: test_vectors DIR [THREADS]
 * With THREADS, encoding, decoding and verifying run on that many threads
 * (eris_encode_options.threads, eris_decoder_set_threads,
 * eris_verify_threads): the same URNs, blocks and errors are expected.
 */
#include "testutil.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILES 512

static const char *vector_dir;
static unsigned threads = 1;
static char *files[MAX_FILES];
static int nfiles;

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_files(void)
{
	DIR *d = opendir(vector_dir);
	struct dirent *e;

	if (d == NULL) {
		fprintf(stderr, "cannot open vector directory %s\n", vector_dir);
		exit(2);
	}
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0 &&
		    nfiles < MAX_FILES)
			files[nfiles++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(files, (size_t)nfiles, sizeof(files[0]), cmp_names);
}

static cJSON *load(int i)
{
	char path[4096];
	FILE *f;
	long size;
	char *text;
	cJSON *json;

	snprintf(path, sizeof(path), "%s/%s", vector_dir, files[i]);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)size + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(fread(text, 1, (size_t)size, f), (size_t)size);
	text[size] = '\0';
	fclose(f);
	json = cJSON_Parse(text);
	free(text);
	ck_assert_msg(json != NULL, "%s is not valid JSON", path);
	return json;
}

static const char *str_field(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsString(v), "field %s missing", name);
	return v->valuestring;
}

static int int_field(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(cJSON_IsNumber(v), "field %s missing", name);
	return v->valueint;
}

/* The vector's capability: its URN must parse to the object's fields. */
static eris_read_cap vector_cap(const cJSON *json)
{
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(json,
							    "read-capability");
	const char *urn = str_field(json, "urn");
	eris_read_cap cap;
	uint8_t *ref, *key;
	size_t n;

	ck_assert_eris(eris_urn_parse(&cap, urn, strlen(urn)), ERIS_OK);
	ck_assert_int_eq(cap.block_size, int_field(rc, "block-size"));
	ck_assert_int_eq(cap.level, int_field(rc, "level"));
	ref = base32_decode_alloc(str_field(rc, "root-reference"), &n);
	ck_assert_int_eq(n, 32);
	ck_assert_mem_eq(cap.root_ref, ref, 32);
	key = base32_decode_alloc(str_field(rc, "root-key"), &n);
	ck_assert_int_eq(n, 32);
	ck_assert_mem_eq(cap.root_key, key, 32);
	free(ref);
	free(key);
	return cap;
}

/* A store holding exactly the vector's blocks, stored as given (without
 * checks: negative vectors hold invalid blocks on purpose). */
static eris_store *vector_store(const cJSON *json, test_store **ts)
{
	eris_store *store = test_store_new(ts);
	const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(json, "blocks");
	const cJSON *b;

	ck_assert(cJSON_IsObject(blocks));
	cJSON_ArrayForEach(b, blocks)
	{
		size_t rn, bn;
		uint8_t *ref = base32_decode_alloc(b->string, &rn);
		uint8_t *data = base32_decode_alloc(b->valuestring, &bn);

		ck_assert_int_eq(rn, 32);
		ck_assert_int_eq((*ts)->parent.put(&(*ts)->parent, ref, data,
						   bn),
				 ERIS_OK);
		free(ref);
		free(data);
	}
	return store;
}

static void check_positive(const cJSON *json, const char *file)
{
	size_t content_len, secret_len;
	uint8_t *content = base32_decode_alloc(str_field(json, "content"),
					       &content_len);
	uint8_t *secret = base32_decode_alloc(
		str_field(json, "convergence-secret"), &secret_len);
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(json, "blocks");
	eris_read_cap expected = vector_cap(json), cap;
	char urn[ERIS_URN_BUFSIZE];
	test_store *ts, *vs;
	eris_store *out = test_store_new(&ts), *in;
	eris_decoder *dec;
	const cJSON *b;
	uint8_t *back;
	size_t got;
	uint64_t nblocks;

	ck_assert_int_eq(secret_len, 32);
	opts.block_size = (uint32_t)int_field(json, "block-size");
	opts.secret = secret;
	opts.threads = threads;

	/* Encode: same URN, exactly the same block set. */
	ck_assert_eris(eris_encode(&cap, out, &opts, content, content_len),
		       ERIS_OK);
	ck_assert_eris(eris_urn_format(urn, &cap), ERIS_OK);
	ck_assert_msg(strcmp(urn, str_field(json, "urn")) == 0,
		      "%s: URN %s, expected %s", file, urn,
		      str_field(json, "urn"));
	ck_assert_cap_eq(cap, expected);
	/* The block map may name a block more than once (vector 06): the
	 * set is what counts. */
	in = vector_store(json, &vs);
	ck_assert_msg(ts->count == vs->count,
		      "%s: %zu blocks produced, %zu expected", file, ts->count,
		      vs->count);
	cJSON_ArrayForEach(b, blocks)
	{
		size_t rn, bn;
		uint8_t *ref = base32_decode_alloc(b->string, &rn);
		uint8_t *data = base32_decode_alloc(b->valuestring, &bn);
		test_block *mine = test_store_find(ts, ref);

		ck_assert_msg(mine != NULL, "%s: block %s not produced", file,
			      b->string);
		ck_assert_int_eq(mine->len, bn);
		ck_assert_mem_eq(mine->data, data, bn);
		free(ref);
		free(data);
	}

	/* Decode from the vector's own blocks. */
	ck_assert_eris(eris_decoder_new(&dec, in, &expected), ERIS_OK);
	ck_assert_eris(eris_decoder_set_threads(dec, threads), ERIS_OK);
	ck_assert_int_eq(eris_decoder_length(dec), content_len);
	back = malloc(content_len + 1);
	ck_assert_eris(eris_decoder_pread(dec, back, content_len + 1, 0, &got),
		       ERIS_OK);
	ck_assert_int_eq(got, content_len);
	ck_assert(content_len == 0 || memcmp(back, content, content_len) == 0);
	for (int i = 0; i < 64 && content_len > 0; i++) {
		uint64_t off = (uint64_t)rand() % content_len;
		size_t len = (size_t)rand() % (content_len - off + 1);

		ck_assert_eris(eris_decoder_pread(dec, back, len, off, &got),
			       ERIS_OK);
		ck_assert_int_eq(got, len);
		ck_assert(len == 0 || memcmp(back, content + off, len) == 0);
	}
	eris_decoder_free(dec);
	ck_assert_eris(eris_verify_threads(in, &expected, threads, &nblocks,
				       NULL, NULL),
		       ERIS_OK);
	ck_assert_uint_ge(nblocks, ts->count);

	free(back);
	free(content);
	free(secret);
	eris_store_free(in);
	eris_store_free(out);
}

/* Official negative vectors: the error the spec digest's table names. */
static int official_negative(int id)
{
	switch (id) {
	case 13: case 15: return ERIS_ENOTFOUND;   /* R1 */
	case 20: case 21: return ERIS_EBLOCKSIZE;  /* R2 */
	case 14: case 16: return ERIS_EMISMATCH;   /* R3 */
	case 17: case 18: return ERIS_EKEY;        /* R4 */
	case 24: return ERIS_ENODE;                /* R5 */
	case 19: case 22: case 23: return ERIS_EPADDING; /* R6 */
	default: return 0;
	}
}

static int rule_code(const char *rule)
{
	static const int codes[] = { ERIS_ENOTFOUND, ERIS_EBLOCKSIZE,
				     ERIS_EMISMATCH, ERIS_EKEY, ERIS_ENODE,
				     ERIS_EPADDING };

	for (int i = 0; i < 6; i++)
		if (strcmp(eris_error_rule(codes[i]), rule) == 0)
			return codes[i];
	return 0;
}

static void check_negative(const cJSON *json, const char *file)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(json,
							  "x-expected-error");
	int expected = x ? rule_code(x->valuestring)
			 : official_negative(int_field(json, "id"));
	eris_read_cap cap = vector_cap(json);
	test_store *ts;
	eris_store *store = vector_store(json, &ts);
	eris_decoder *dec;
	uint8_t *buf;
	size_t got;
	int rc;

	ck_assert_msg(expected != 0, "%s: no expected error known", file);
	/* Decoding: the first failure, at open or while reading. */
	rc = eris_decoder_new(&dec, store, &cap);
	if (rc == ERIS_OK)
		ck_assert_eris(eris_decoder_set_threads(dec, threads), ERIS_OK);
	if (rc == ERIS_OK) {
		uint64_t len = eris_decoder_length(dec);

		buf = malloc(len ? (size_t)len : 1);
		rc = eris_decoder_pread(dec, buf, (size_t)len, 0, &got);
		free(buf);
		eris_decoder_free(dec);
	}
	ck_assert_msg(rc == expected, "%s: decode gave %s (%s), expected %s",
		      file, eris_strerror(rc), eris_error_last(),
		      eris_strerror(expected));
	/* The message names the rule. */
	ck_assert_ptr_nonnull(strstr(eris_error_last(), eris_error_rule(rc)));
	ck_assert_eris(eris_verify_threads(store, &cap, threads, NULL, NULL,
				       NULL),
		       expected);
	eris_store_free(store);
}

START_TEST(test_vector)
{
	cJSON *json = load(_i);
	const char *type = str_field(json, "type");

	ck_assert_str_eq(str_field(json, "spec-version"), "1.0.0");
	if (strcmp(type, "positive") == 0)
		check_positive(json, files[_i]);
	else if (strcmp(type, "negative") == 0)
		check_negative(json, files[_i]);
	else
		ck_abort_msg("%s: unknown type %s", files[_i], type);
	cJSON_Delete(json);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("vectors");
	TCase *tc = tcase_create("vectors");

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s VECTOR-DIR [THREADS]\n", argv[0]);
		return 2;
	}
	vector_dir = argv[1];
	if (argc == 3)
		threads = (unsigned)atoi(argv[2]);
	list_files();
	if (nfiles == 0) {
		fprintf(stderr, "no *.json vectors in %s\n", vector_dir);
		return 1;
	}
	printf("%d vector files in %s\n", nfiles, vector_dir);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_vector, 0, nfiles);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
