/*
 * gen_vectors.c - writes our own ERIS test vectors, in the official JSON
 * format, to a directory (vectors/ in the source tree):
 *
 *   eris-c-vector-positive-1NN.json  edge sizes for both block sizes, with
 *                                    the null and with non-null secrets
 *   eris-c-vector-negative-2NN.json  damaged block sets; the extra field
 *                                    "x-expected-error" names the rule
 *
 * Content of a vector named NAME is the ChaCha20-IETF keystream under the
 * key BLAKE2b-256(NAME), as for the large official vectors; a non-null
 * secret is BLAKE2b-256("secret:" NAME). The files are checked by
 * test_vectors and, independently of liberis, by
 * tests/vectors/check_vectors.py.
 *
 * Usage: eris-gen-vectors OUTDIR
 */
#include <eris/eris.h>
#include <eris/sys/store_backend.h>

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A back end that keeps blocks in emission order. */
typedef struct {
	eris_store_backend parent;
	size_t count;
	uint8_t (*refs)[32];
	uint8_t **blocks;
	size_t *lens;
} order_store;

static int os_put(eris_store_backend *b, const uint8_t *ref,
		  const uint8_t *block, size_t len)
{
	order_store *os = (order_store *)b;
	size_t n = os->count + 1;

	os->refs = realloc(os->refs, n * sizeof(*os->refs));
	os->blocks = realloc(os->blocks, n * sizeof(*os->blocks));
	os->lens = realloc(os->lens, n * sizeof(*os->lens));
	if (!os->refs || !os->blocks || !os->lens)
		return ERIS_ENOMEM;
	memcpy(os->refs[os->count], ref, 32);
	os->blocks[os->count] = malloc(len);
	if (os->blocks[os->count] == NULL)
		return ERIS_ENOMEM;
	memcpy(os->blocks[os->count], block, len);
	os->lens[os->count] = len;
	os->count = n;
	return ERIS_OK;
}

static int os_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		  size_t buf_size, size_t *out_len)
{
	(void)b; (void)ref; (void)buf; (void)buf_size; (void)out_len;
	return ERIS_ENOTFOUND; /* write-only */
}

static void os_free(eris_store_backend *b)
{
	order_store *os = (order_store *)b;

	for (size_t i = 0; i < os->count; i++)
		free(os->blocks[i]);
	free(os->refs);
	free(os->blocks);
	free(os->lens);
	free(os);
}

static const char *outdir;

static char *b32(const uint8_t *p, size_t n)
{
	char *s = malloc(n * 8 / 5 + 2);

	if (s == NULL)
		abort();
	eris_base32_encode(s, p, n);
	return s;
}

static void add_b32(cJSON *obj, const char *name, const uint8_t *p, size_t n)
{
	char *s = b32(p, n);

	cJSON_AddStringToObject(obj, name, s);
	free(s);
}

static void write_json(cJSON *json, const char *type, int id)
{
	char path[4096], *text = cJSON_PrintUnformatted(json);
	FILE *f;

	snprintf(path, sizeof(path), "%s/eris-c-vector-%s-%d.json", outdir,
		 type, id);
	f = fopen(path, "wb");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	printf("%s\n", path);
	free(text);
}

typedef struct {
	int id;
	const char *name;
	uint32_t block_size;
	size_t size;
	int secret; /* 0 = null secret */
	/* negative vectors: which emitted block to damage, and how */
	long damage_block;
	char damage; /* 'r' remove, 'f' flip a byte, 't' truncate */
	const char *rule;
} spec;

static void generate(const spec *v)
{
	static const uint8_t nonce[12];
	uint8_t key[32], secret[32] = { 0 }, *content;
	char msg[300], urn[ERIS_URN_BUFSIZE];
	eris_encode_options opts = ERIS_ENCODE_OPTIONS_INIT;
	order_store *os = calloc(1, sizeof(*os));
	eris_store *store;
	eris_read_cap cap;
	cJSON *json = cJSON_CreateObject(), *rc, *blocks;
	int negative = v->rule != NULL;

	if (os == NULL || json == NULL)
		abort();
	os->parent.version = ERIS_STORE_BACKEND_VERSION;
	os->parent.get = os_get;
	os->parent.put = os_put;
	os->parent.free = os_free;
	if (eris_store_new_from_backend(&store, &os->parent) < 0)
		abort();
	content = calloc(1, v->size + 1);
	crypto_generichash_blake2b(key, 32, (const uint8_t *)v->name,
				   strlen(v->name), NULL, 0);
	crypto_stream_chacha20_ietf_xor_ic(content, content, v->size, nonce, 0,
					   key);
	if (v->secret) {
		snprintf(msg, sizeof(msg), "secret:%s", v->name);
		crypto_generichash_blake2b(secret, 32, (const uint8_t *)msg,
					   strlen(msg), NULL, 0);
	}
	opts.block_size = v->block_size;
	opts.secret = secret;
	if (eris_encode(&cap, store, &opts, content, v->size) < 0) {
		fprintf(stderr, "%s: %s\n", v->name, eris_error_last());
		exit(1);
	}
	eris_urn_format(urn, &cap);

	cJSON_AddNumberToObject(json, "id", v->id);
	cJSON_AddStringToObject(json, "type", negative ? "negative" : "positive");
	cJSON_AddStringToObject(json, "spec-version", "1.0.0");
	cJSON_AddStringToObject(json, "name", v->name);
	if (negative) {
		snprintf(msg, sizeof(msg),
			 "Content can not be decoded: %s (rule %s).", v->name,
			 v->rule);
		cJSON_AddStringToObject(json, "description", msg);
	} else {
		snprintf(msg, sizeof(msg),
			 "Encode %zu bytes of content using block-size %u and "
			 "a %s convergence secret.",
			 v->size, (unsigned)v->block_size,
			 v->secret ? "non-null" : "null");
		cJSON_AddStringToObject(json, "description", msg);
		add_b32(json, "content", content, v->size);
		add_b32(json, "convergence-secret", secret, 32);
		cJSON_AddNumberToObject(json, "block-size", v->block_size);
	}
	rc = cJSON_AddObjectToObject(json, "read-capability");
	cJSON_AddNumberToObject(rc, "block-size", cap.block_size);
	cJSON_AddNumberToObject(rc, "level", cap.level);
	add_b32(rc, "root-reference", cap.root_ref, 32);
	add_b32(rc, "root-key", cap.root_key, 32);
	cJSON_AddStringToObject(json, "urn", urn);
	blocks = cJSON_AddObjectToObject(json, "blocks");
	for (size_t i = 0; i < os->count; i++) {
		char *ref = b32(os->refs[i], 32);
		size_t len = os->lens[i];

		if (cJSON_GetObjectItemCaseSensitive(blocks, ref) == NULL &&
		    !(v->damage == 'r' && (long)i == v->damage_block)) {
			if ((long)i == v->damage_block && v->damage == 'f')
				os->blocks[i][len / 2] ^= 0x10;
			if ((long)i == v->damage_block && v->damage == 't')
				len -= 24;
			add_b32(blocks, ref, os->blocks[i], len);
		}
		free(ref);
	}
	if (negative)
		cJSON_AddStringToObject(json, "x-expected-error", v->rule);
	write_json(json, negative ? "negative" : "positive", v->id);
	cJSON_Delete(json);
	eris_store_free(store);
	free(content);
}

static const spec vectors[] = {
	{ 100, "empty (block size 1KiB)", 1024, 0, 0, -1, 0, NULL },
	{ 101, "one byte (block size 1KiB)", 1024, 1, 0, -1, 0, NULL },
	{ 102, "1023 bytes (block size 1KiB)", 1024, 1023, 0, -1, 0, NULL },
	{ 103, "1024 bytes (block size 1KiB)", 1024, 1024, 0, -1, 0, NULL },
	{ 104, "1025 bytes (block size 1KiB)", 1024, 1025, 0, -1, 0, NULL },
	{ 105, "16383 bytes (block size 1KiB)", 1024, 16383, 0, -1, 0, NULL },
	{ 106, "16384 bytes (block size 1KiB)", 1024, 16384, 0, -1, 0, NULL },
	{ 107, "16385 bytes (block size 1KiB)", 1024, 16385, 0, -1, 0, NULL },
	{ 108, "262143 bytes (block size 1KiB)", 1024, 262143, 0, -1, 0, NULL },
	{ 109, "262145 bytes (block size 1KiB)", 1024, 262145, 0, -1, 0, NULL },
	{ 110, "empty (block size 32KiB)", 32768, 0, 0, -1, 0, NULL },
	{ 111, "one byte (block size 32KiB)", 32768, 1, 0, -1, 0, NULL },
	{ 112, "32767 bytes (block size 32KiB)", 32768, 32767, 0, -1, 0, NULL },
	{ 113, "32768 bytes (block size 32KiB)", 32768, 32768, 0, -1, 0, NULL },
	{ 114, "32769 bytes (block size 32KiB)", 32768, 32769, 0, -1, 0, NULL },
	{ 115, "65537 bytes (block size 32KiB)", 32768, 65537, 0, -1, 0, NULL },
	{ 120, "empty (block size 1KiB, secret)", 1024, 0, 1, -1, 0, NULL },
	{ 121, "1025 bytes (block size 1KiB, secret)", 1024, 1025, 1, -1, 0, NULL },
	{ 122, "16385 bytes (block size 1KiB, secret)", 1024, 16385, 1, -1, 0, NULL },
	{ 123, "one byte (block size 32KiB, secret)", 32768, 1, 1, -1, 0, NULL },
	{ 124, "65537 bytes (block size 32KiB, secret)", 32768, 65537, 1, -1, 0, NULL },
	/* 20000 bytes of 1 KiB blocks: 20 leaves, level 2; the first
	 * level-1 node is the 17th block emitted (index 16). */
	{ 200, "missing internal node", 1024, 20000, 0, 16, 'r', "R1" },
	{ 201, "corrupted internal node", 1024, 20000, 0, 16, 'f', "R3" },
	{ 202, "truncated leaf", 1024, 20000, 0, 0, 't', "R2" },
	{ 203, "missing first leaf", 32768, 100000, 0, 0, 'r', "R1" },
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	if (eris_init() < 0)
		return 1;
	outdir = argv[1];
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
		generate(&vectors[i]);
	return 0;
}
