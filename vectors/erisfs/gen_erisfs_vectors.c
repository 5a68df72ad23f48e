/*
 * gen_erisfs_vectors.c - writes our own ERIS-FS test vectors to a
 * directory (vectors/erisfs/ in the source tree), one JSON file per
 * tree: eris-c-fs-vector-NN.json.
 *
 * Each tree below is made on disk in a temporary directory (files with
 * their contents and execute bits, symbolic links), encoded by
 * eris_fs_put_tree() into a memory store, and written out with
 *
 *   tree     the entries as listed here (paths as component arrays,
 *            "file" / "executable" / "symlink"; contents in base64 or
 *            as "content-seed" + "size"; each file's URN)
 *   index    the index bytes (hex) and "urn", the index's URN
 *   blocks   every block of the files and of the index (base32, as in
 *            the core vectors), sorted by reference
 *
 * Generated content of `size` bytes under seed S is the ChaCha20-IETF
 * keystream (zero nonce, counter 0) under the key BLAKE2b-256(S), as in
 * gen_vectors.c. The files are checked by the ctest vectors-fs-generated
 * (regenerate and compare) and, independently of liberis, by
 * tests/vectors/check_erisfs_vectors.py.
 *
 * Usage: eris-gen-erisfs-vectors OUTDIR
 */
#define _POSIX_C_SOURCE 200809L
#include <eris/eris.h>
#include <eris/fs.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One entry of a tree. Exactly one of text (literal bytes, NUL-ended)
 * and size (generated content) describes a file; text is the target of
 * a symlink. Directories are the prefixes of the paths. */
typedef struct {
	const char *path;
	char type; /* 'f' file, 'x' executable, 'l' symlink */
	const char *text;
	size_t size; /* generated content when text is NULL */
} node;

#define MAX_NODES 40

typedef struct {
	int id;
	const char *name;
	const char *description;
	unsigned flags; /* ERIS_FS_EXTERNAL_LINKS */
	node nodes[MAX_NODES];
} tree;

/* UTF-8 spellings used by the unicode vector. */
#define E_NFC "\xc3\xa9"       /* U+00E9 */
#define E_NFD "e\xcc\x81"      /* U+0065 U+0301 */
#define A_UML "\xc3\xa4"       /* U+00E4 */
#define SNOWMAN "\xe2\x98\x83" /* U+2603 */
#define EMOJI "\xf0\x9f\x93\xa6" /* U+1F4E6 */
#define KANJI "\xe6\x96\x87\xe6\x9b\xb8" /* U+6587 U+66F8 */

/* 24 nested directories: a path of 25 components (array head 98 19). */
#define DEEP24 "d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d"
/* A component of 24 bytes (text head 78 18) and one of 23 (77). */
#define NAME24 "abcdefghijklmnopqrstuvwx"
#define NAME23 "abcdefghijklmnopqrstuvw"

static const tree trees[] = {
	{ 1, "empty tree",
	  "A directory with nothing in it: an index without entries.", 0,
	  { { 0 } } },
	{ 2, "one file",
	  "One file, hello.txt = \"Hello world!\": the example EX1 of the "
	  "ERIS-FS digest.", 0,
	  { { "hello.txt", 'f', "Hello world!", 0 }, { 0 } } },
	{ 3, "nested directories",
	  "Files at several depths, directories holding only directories, "
	  "names sorted by component count, then length, then bytes.", 0,
	  { { "top", 'f', "top\n", 0 },
	    { "a/b/c/d/e/leaf.txt", 'f', "deep leaf\n", 0 },
	    { "a/b/c/sibling", 'f', "sibling\n", 0 },
	    { "a/x", 'f', "x\n", 0 },
	    { "aa", 'f', "aa\n", 0 },
	    { "b", 'f', "b\n", 0 },
	    { "z/a", 'f', "z/a\n", 0 },
	    { "a/b/y", 'f', "y\n", 0 },
	    { "share/doc/pkg/README", 'f', "read me\n", 0 },
	    { "share/man/man1/pkg.1", 'f', ".TH PKG 1\n", 0 },
	    { 0 } } },
	{ 4, "empty files and executables",
	  "Empty files (the capability of empty content), an empty "
	  "executable, scripts with the execute bit, a file of mode 0600.",
	  0,
	  { { "empty", 'f', "", 0 },
	    { "dir/also-empty", 'f', "", 0 },
	    { "bin/true", 'x', "", 0 },
	    { "bin/hello", 'x', "#!/bin/sh\necho hello\n", 0 },
	    { "bin/data", 'f', "not executable\n", 0 },
	    { "libexec/tool", 'x', "#!/bin/sh\nexit 0\n", 0 },
	    { "private", 'f', "mode 0600\n", 0 },
	    { 0 } } },
	{ 5, "symlinks",
	  "Links stored verbatim and never followed: to a file, to a "
	  "directory, through .. inside the tree, dangling, to a link.", 0,
	  { { "lib/libfoo.so.1.2", 'f', "\x7f" "ELF not really\n", 0 },
	    { "lib/libfoo.so.1", 'l', "libfoo.so.1.2", 0 },
	    { "lib/libfoo.so", 'l', "libfoo.so.1", 0 },
	    { "bin/foo", 'x', "#!/bin/sh\n", 0 },
	    { "sbin/foo", 'l', "../bin/foo", 0 },
	    { "doc", 'l', "share/doc", 0 },
	    { "share/doc/foo.txt", 'f', "foo\n", 0 },
	    { "dangling", 'l', "does-not-exist", 0 },
	    { "share/deep/up", 'l', "../../lib", 0 },
	    { 0 } } },
	{ 6, "external symlinks",
	  "Absolute targets and targets leading out of the tree, as in Nix "
	  "and Guix outputs: valid only with ERIS_FS_EXTERNAL_LINKS.",
	  ERIS_FS_EXTERNAL_LINKS,
	  { { "bin/sh", 'l',
	      "/nix/store/00000000000000000000000000000000-bash-5.2/bin/bash",
	      0 },
	    { "lib/ld.so", 'l', "/lib64/ld-linux-x86-64.so.2", 0 },
	    { "outside", 'l', "../elsewhere/file", 0 },
	    { "etc/profile", 'f', "export PATH\n", 0 },
	    { 0 } } },
	{ 7, "unicode names",
	  "Non-ASCII names, sorted by their UTF-8 bytes and never "
	  "normalised: caf\xc3\xa9 in NFC and in NFD are two files.", 0,
	  { { "caf" E_NFC, 'f', "NFC\n", 0 },
	    { "caf" E_NFD, 'f', "NFD\n", 0 },
	    { A_UML "rger/" SNOWMAN, 'f', "snow\n", 0 },
	    { EMOJI "/" KANJI ".txt", 'f', "kanji\n", 0 },
	    { "ascii", 'f', "plain\n", 0 },
	    { "link-" E_NFD, 'l', "caf" E_NFD, 0 },
	    { 0 } } },
	{ 8, "block sizes",
	  "The block size of each file by its length: below 16 KiB 1 KiB "
	  "blocks, from 16 KiB 32 KiB blocks; two equal files share a "
	  "capability and their blocks.", 0,
	  { { "small", 'f', NULL, 1 },
	    { "k1023", 'f', NULL, 1023 },
	    { "k16383", 'f', NULL, 16383 },
	    { "k16384", 'f', NULL, 16384 },
	    { "big/k40000", 'x', NULL, 40000 },
	    { "twin-1", 'f', "same bytes\n", 0 },
	    { "twin-2", 'f', "same bytes\n", 0 },
	    { 0 } } },
	{ 9, "head classes",
	  "CBOR heads at their class boundaries: a map of 24 entries "
	  "(B8 18), a path of 25 components (98 19), components of 23 and "
	  "24 bytes (77, 78 18).", 0,
	  { { "f00", 'f', "0", 0 }, { "f01", 'f', "1", 0 },
	    { "f02", 'f', "2", 0 }, { "f03", 'f', "3", 0 },
	    { "f04", 'f', "4", 0 }, { "f05", 'f', "5", 0 },
	    { "f06", 'f', "6", 0 }, { "f07", 'f', "7", 0 },
	    { "f08", 'f', "8", 0 }, { "f09", 'f', "9", 0 },
	    { "f10", 'f', "10", 0 }, { "f11", 'f', "11", 0 },
	    { "f12", 'f', "12", 0 }, { "f13", 'f', "13", 0 },
	    { "f14", 'f', "14", 0 }, { "f15", 'f', "15", 0 },
	    { "f16", 'f', "16", 0 }, { "f17", 'f', "17", 0 },
	    { "f18", 'f', "18", 0 }, { "f19", 'f', "19", 0 },
	    { NAME23, 'f', "23", 0 },
	    { NAME24, 'f', "24", 0 },
	    { DEEP24 "/bottom", 'f', "bottom\n", 0 },
	    { "link24", 'l', NAME24, 0 },
	    { 0 } } },
};

static const char *outdir;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "eris-gen-erisfs-vectors: %s: %s\n", what, detail);
	exit(1);
}

static size_t node_count(const tree *t)
{
	size_t n = 0;

	while (n < MAX_NODES && t->nodes[n].path != NULL)
		n++;
	return n;
}

/* The bytes of a file node (caller frees). */
static uint8_t *node_content(const tree *t, const node *nd, size_t *len)
{
	static const uint8_t nonce[12];
	char seed[512];
	uint8_t key[32], *p;

	if (nd->text != NULL) {
		*len = strlen(nd->text);
		p = malloc(*len + 1);
		if (p == NULL)
			abort();
		memcpy(p, nd->text, *len + 1);
		return p;
	}
	snprintf(seed, sizeof(seed), "%s:%s", t->name, nd->path);
	crypto_generichash_blake2b(key, 32, (const uint8_t *)seed,
				   strlen(seed), NULL, 0);
	*len = nd->size;
	p = calloc(1, nd->size + 1);
	if (p == NULL)
		abort();
	crypto_stream_chacha20_ietf_xor_ic(p, p, nd->size, nonce, 0, key);
	return p;
}

/* mkdir -p of every directory above `path` inside `root`. */
static void make_parents(const char *root, const char *path)
{
	char buf[4096];
	size_t rl = strlen(root);

	if (snprintf(buf, sizeof(buf), "%s/%s", root, path) >=
	    (int)sizeof(buf))
		die(path, "path too long");
	for (char *s = buf + rl + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			die(buf, strerror(errno));
		*s = '/';
	}
}

static void make_tree(const tree *t, const char *root)
{
	for (size_t i = 0; i < node_count(t); i++) {
		const node *nd = &t->nodes[i];
		char full[4096];

		make_parents(root, nd->path);
		if (snprintf(full, sizeof(full), "%s/%s", root, nd->path) >=
		    (int)sizeof(full))
			die(nd->path, "path too long");
		if (nd->type == 'l') {
			if (symlink(nd->text, full) < 0)
				die(full, strerror(errno));
		} else {
			size_t len;
			uint8_t *c = node_content(t, nd, &len);
			/* 0600 for "private"; the umask must not matter. */
			mode_t mode = nd->type == 'x' ? 0755 : 0644;
			int fd;

			if (strcmp(nd->path, "private") == 0)
				mode = 0600;
			fd = open(full, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (fd < 0 || write(fd, c, len) != (ssize_t)len ||
			    fchmod(fd, mode) < 0 || close(fd) < 0)
				die(full, strerror(errno));
			free(c);
		}
	}
}

static void remove_tree(const char *dir)
{
	char cmd[4200];

	/* The temporary tree is ours alone, made by mkdtemp. */
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd) != 0)
		die(dir, "cannot remove");
}

static char *b32(const uint8_t *p, size_t n)
{
	char *s = malloc(n * 8 / 5 + 2);

	if (s == NULL)
		abort();
	eris_base32_encode(s, p, n);
	return s;
}

static char *b64(const uint8_t *p, size_t n)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *s = malloc((n + 2) / 3 * 4 + 1), *o = s;

	if (s == NULL)
		abort();
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = al[v >> 18 & 63];
		*o++ = al[v >> 12 & 63];
		*o++ = i + 1 < n ? al[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? al[v & 63] : '=';
	}
	*o = '\0';
	return s;
}

struct refs {
	uint8_t (*v)[ERIS_REF_BYTES];
	size_t n;
};

static int collect(const uint8_t ref[ERIS_REF_BYTES], size_t len, void *p)
{
	struct refs *r = p;

	(void)len;
	r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
	if (r->v == NULL)
		abort();
	memcpy(r->v[r->n++], ref, ERIS_REF_BYTES);
	return 0;
}

static int cmp_ref(const void *a, const void *b)
{
	return memcmp(a, b, ERIS_REF_BYTES);
}

/* The whole content of `cap` from `store`. */
static uint8_t *read_all(eris_store *store, const eris_read_cap *cap,
			 size_t *len)
{
	eris_decoder *dec;
	uint8_t *buf;
	size_t got;

	if (eris_decoder_new(&dec, store, cap) < 0)
		die("decode", eris_error_last());
	*len = (size_t)eris_decoder_length(dec);
	buf = malloc(*len + 1);
	if (buf == NULL)
		abort();
	if (eris_decoder_read(dec, buf, *len, &got) < 0 || got != *len)
		die("decode", eris_error_last());
	eris_decoder_free(dec);
	return buf;
}

static void write_json(cJSON *json, int id)
{
	char path[4096], *text = cJSON_Print(json);
	FILE *f;

	snprintf(path, sizeof(path), "%s/eris-c-fs-vector-%02d.json", outdir,
		 id);
	f = fopen(path, "wb");
	if (text == NULL || f == NULL || fputs(text, f) < 0 ||
	    fputc('\n', f) < 0 || fclose(f) != 0)
		die(path, strerror(errno));
	printf("%s\n", path);
	free(text);
}

static void generate(const tree *t)
{
	eris_fs_put_options po = ERIS_FS_PUT_OPTIONS_INIT;
	const char *tmp = getenv("TMPDIR");
	char rootbuf[4096], urn[ERIS_URN_BUFSIZE];
	eris_store *store;
	eris_read_cap cap;
	eris_fs_index *idx;
	struct refs refs = { NULL, 0 };
	uint8_t *ixb;
	size_t ixlen, n = node_count(t);
	cJSON *json = cJSON_CreateObject(), *arr, *blocks, *flags;
	char *hex;

	/* The tree is built on disk so that the walker, not only the
	 * codec, is what the vectors pin down. */
	snprintf(rootbuf, sizeof(rootbuf), "%s/eris-fs-vector-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(rootbuf) == NULL)
		die(rootbuf, strerror(errno));
	make_tree(t, rootbuf);
	if (eris_store_new_mem(&store) < 0)
		die("store", eris_error_last());
	po.flags = t->flags;
	po.threads = 2;
	if (eris_fs_put_tree(&cap, store, rootbuf, &po) < 0)
		die(t->name, eris_error_last());
	remove_tree(rootbuf);
	eris_urn_format(urn, &cap);
	ixb = read_all(store, &cap, &ixlen);
	if (eris_fs_index_parse(&idx, ixb, ixlen, t->flags) < 0)
		die(t->name, eris_error_last());
	if (eris_fs_index_count(idx) != n)
		die(t->name, "the index does not list every node");

	cJSON_AddNumberToObject(json, "id", t->id);
	cJSON_AddStringToObject(json, "type", "positive");
	cJSON_AddStringToObject(json, "format", "ERIS-FS index version 1");
	cJSON_AddStringToObject(json, "name", t->name);
	cJSON_AddStringToObject(json, "description", t->description);
	flags = cJSON_AddArrayToObject(json, "flags");
	if (t->flags & ERIS_FS_EXTERNAL_LINKS)
		cJSON_AddItemToArray(flags,
				     cJSON_CreateString("external-links"));
	arr = cJSON_AddArrayToObject(json, "tree");
	for (size_t i = 0; i < n; i++) {
		const node *nd = &t->nodes[i];
		cJSON *o = cJSON_CreateObject(), *path;
		char comp[4096], *s, *save = NULL;
		eris_fs_entry e = { 0 };
		size_t j;

		path = cJSON_AddArrayToObject(o, "path");
		snprintf(comp, sizeof(comp), "%s", nd->path);
		for (s = strtok_r(comp, "/", &save); s;
		     s = strtok_r(NULL, "/", &save))
			cJSON_AddItemToArray(path, cJSON_CreateString(s));
		for (j = 0; j < n; j++) {
			if (eris_fs_index_entry(idx, j, &e) < 0)
				die(t->name, eris_error_last());
			if (strcmp(e.path, nd->path) == 0)
				break;
		}
		if (j == n)
			die(nd->path, "missing from the index");
		cJSON_AddStringToObject(o, "type",
					nd->type == 'l'	  ? "symlink"
					: nd->type == 'x' ? "executable"
							  : "file");
		if ((nd->type == 'l') != (e.type == ERIS_FS_SYMLINK) ||
		    (nd->type == 'x') != (e.type == ERIS_FS_EXECUTABLE))
			die(nd->path, "wrong entry type in the index");
		if (nd->type == 'l') {
			cJSON_AddStringToObject(o, "target", nd->text);
		} else {
			char furn[ERIS_URN_BUFSIZE];

			if (nd->text != NULL) {
				char *c = b64((const uint8_t *)nd->text,
					      strlen(nd->text));

				cJSON_AddStringToObject(o, "content", c);
				free(c);
			} else {
				snprintf(comp, sizeof(comp), "%s:%s", t->name,
					 nd->path);
				cJSON_AddStringToObject(o, "content-seed",
							comp);
				cJSON_AddNumberToObject(o, "size",
							(double)nd->size);
			}
			eris_urn_format(furn, &e.cap);
			cJSON_AddStringToObject(o, "urn", furn);
		}
		cJSON_AddItemToArray(arr, o);
	}
	hex = malloc(ixlen * 2 + 1);
	if (hex == NULL)
		abort();
	for (size_t i = 0; i < ixlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", ixb[i]);
	cJSON_AddStringToObject(json, "index", hex);
	cJSON_AddNumberToObject(json, "index-length", (double)ixlen);
	cJSON_AddStringToObject(json, "urn", urn);
	free(hex);

	if (eris_store_foreach(store, collect, &refs) < 0)
		die("store", eris_error_last());
	qsort(refs.v, refs.n, sizeof(*refs.v), cmp_ref);
	blocks = cJSON_AddObjectToObject(json, "blocks");
	for (size_t i = 0; i < refs.n; i++) {
		static uint8_t block[ERIS_BLOCK_SIZE_32K];
		size_t len;
		char *k, *v;

		if (eris_store_get(store, refs.v[i], block, sizeof(block),
				   &len) < 0)
			die("store", eris_error_last());
		k = b32(refs.v[i], ERIS_REF_BYTES);
		v = b32(block, len);
		cJSON_AddStringToObject(blocks, k, v);
		free(k);
		free(v);
	}
	write_json(json, t->id);
	cJSON_Delete(json);
	free(refs.v);
	free(ixb);
	eris_fs_index_free(idx);
	eris_store_free(store);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	if (eris_init() < 0 || sodium_init() < 0)
		return 1;
	outdir = argv[1];
	for (size_t i = 0; i < sizeof(trees) / sizeof(trees[0]); i++)
		generate(&trees[i]);
	return 0;
}
