/*
 * fs.c - the ERIS-FS index (eris/fs.h): building, deterministic CBOR
 * encoding, strict parsing.
 *
 * The parser checks canonical form as it goes rather than re-encoding:
 * every head must be the shortest for its value and definite, each key
 * must encode strictly greater than the one before (that also refuses
 * duplicates), and nothing may follow the index. With those, the only
 * encoding left for a parsed index is the one eris_fs_index_encode()
 * writes; the fuzz target checks exactly that.
 */
#include "internal.h"

#include <eris/fs.h>

#include <stdlib.h>
#include <string.h>

struct fs_ent {
	char *path; /* components joined with '/' */
	size_t ncomp;
	eris_fs_type type;
	eris_read_cap cap;
	char *target;
	uint8_t *key; /* the encoded key, while sorting */
	size_t key_len;
};

struct eris_fs_index {
	unsigned flags;
	struct fs_ent *v;
	size_t n, alloc;
};

static const uint8_t fs_magic[ERIS_FS_MAGIC_BYTES] = {
	0xDA, 0x65, 0x72, 0x69, 0x74, /* tag 1701996916 */
	0x82,                         /* array of 2 */
	0x01                          /* version 1 */
};

int eris_fs_has_magic(const uint8_t *in, size_t len)
{
	return in != NULL && len >= sizeof(fs_magic) &&
	       memcmp(in, fs_magic, sizeof(fs_magic)) == 0;
}

/* ---- validation shared by add and parse ---- */

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			k = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			k = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* NULL if the component is valid, else why not. */
static const char *component_problem(const uint8_t *s, size_t n)
{
	if (n == 0)
		return "an empty component";
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return n == 1 ? "a component \".\"" : "a component \"..\"";
	if (memchr(s, '/', n) != NULL)
		return "a component containing '/'";
	if (memchr(s, 0, n) != NULL)
		return "a component containing NUL";
	if (!utf8_valid(s, n))
		return "a component that is not valid UTF-8";
	return NULL;
}

/* NULL if the target of a link with `ncomp` path components is valid. */
static const char *target_problem(const uint8_t *t, size_t n, size_t ncomp,
				  unsigned flags)
{
	long depth = (long)ncomp - 1; /* components of the link's directory */
	size_t i = 0;

	if (n == 0)
		return "an empty symlink target";
	if (memchr(t, 0, n) != NULL)
		return "a symlink target containing NUL";
	if (!utf8_valid(t, n))
		return "a symlink target that is not valid UTF-8";
	if (flags & ERIS_FS_EXTERNAL_LINKS)
		return NULL;
	if (t[0] == '/')
		return "an absolute symlink target";
	/* Lexically: each ".." must stay at or below the tree's root. */
	while (i < n) {
		size_t j = i;

		while (j < n && t[j] != '/')
			j++;
		if (j - i == 2 && t[i] == '.' && t[i + 1] == '.') {
			if (--depth < 0)
				return "a symlink target leading out of the tree";
		} else if (j - i > 0 && !(j - i == 1 && t[i] == '.')) {
			depth++;
		}
		i = j + 1;
	}
	return NULL;
}

int eris__fs_path_check(const char *path)
{
	const char *s = path;

	for (;;) {
		const char *slash = strchr(s, '/');
		size_t l = slash ? (size_t)(slash - s) : strlen(s);
		const char *why = component_problem((const uint8_t *)s, l);

		if (why != NULL)
			return eris_error_set(ERIS_EINVAL,
					      "ERIS-FS path '%s': %s", path, why);
		if (slash == NULL)
			return ERIS_OK;
		s = slash + 1;
	}
}

/* ---- building ---- */

int eris_fs_index_new(eris_fs_index **out, unsigned flags)
{
	if (out == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if (flags & ~(unsigned)ERIS_FS_EXTERNAL_LINKS)
		return eris_error_set(ERIS_EINVAL, "unknown ERIS-FS flag %#x",
				      flags);
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	(*out)->flags = flags;
	return ERIS_OK;
}

static void ent_clear(struct fs_ent *e)
{
	free(e->path);
	free(e->target);
	free(e->key);
	eris_memzero(&e->cap, sizeof(e->cap));
}

void eris_fs_index_free(eris_fs_index *idx)
{
	if (idx == NULL)
		return;
	for (size_t i = 0; i < idx->n; i++)
		ent_clear(&idx->v[i]);
	free(idx->v);
	free(idx);
}

size_t eris_fs_index_count(const eris_fs_index *idx)
{
	return idx ? idx->n : 0;
}

int eris_fs_index_entry(const eris_fs_index *idx, size_t i, eris_fs_entry *out)
{
	const struct fs_ent *e;

	if (idx == NULL || out == NULL || i >= idx->n)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	e = &idx->v[i];
	out->path = e->path;
	out->n_components = e->ncomp;
	out->type = e->type;
	out->cap = e->cap;
	out->target = e->target;
	return ERIS_OK;
}

/* A new slot at the end (zeroed), or NULL. */
static struct fs_ent *push(eris_fs_index *idx)
{
	if (idx->n == idx->alloc) {
		size_t na = idx->alloc ? idx->alloc * 2 : 16;
		struct fs_ent *nv = realloc(idx->v, na * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		idx->v = nv;
		idx->alloc = na;
	}
	memset(&idx->v[idx->n], 0, sizeof(idx->v[0]));
	return &idx->v[idx->n++];
}

static int add_checked(eris_fs_index *idx, char *path, size_t ncomp,
		       eris_fs_type type, const eris_read_cap *cap,
		       const char *target, int code)
{
	struct fs_ent *e;
	const char *why;

	if (type == ERIS_FS_SYMLINK) {
		why = target_problem((const uint8_t *)target, strlen(target),
				     ncomp, idx->flags);
		if (why != NULL) {
			eris_error_set(code, "ERIS-FS path '%s': %s", path, why);
			free(path);
			return code;
		}
	}
	e = push(idx);
	if (e == NULL) {
		free(path);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	e->path = path;
	e->ncomp = ncomp;
	e->type = type;
	if (type == ERIS_FS_SYMLINK) {
		e->target = strdup(target);
		if (e->target == NULL) {
			ent_clear(e);
			idx->n--;
			return eris_error_set(ERIS_ENOMEM, "out of memory");
		}
	} else {
		e->cap = *cap;
	}
	return ERIS_OK;
}

int eris_fs_index_add(eris_fs_index *idx, const char *const *components,
		      size_t n, eris_fs_type type, const eris_read_cap *cap,
		      const char *target)
{
	size_t total = 0;
	char *path, *p;
	uint8_t probe[ERIS_READ_CAP_BYTES];

	if (idx == NULL || components == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	if (n == 0)
		return eris_error_set(ERIS_EINVAL, "ERIS-FS path: no component");
	for (size_t i = 0; i < n; i++) {
		const char *why;

		if (components[i] == NULL)
			return eris_error_set(ERIS_EINVAL, "invalid argument");
		why = component_problem((const uint8_t *)components[i],
					strlen(components[i]));
		if (why != NULL)
			return eris_error_set(ERIS_EINVAL,
					      "ERIS-FS path component %zu: %s",
					      i + 1, why);
		total += strlen(components[i]) + 1;
	}
	switch (type) {
	case ERIS_FS_FILE:
	case ERIS_FS_EXECUTABLE:
		if (cap == NULL || target != NULL ||
		    eris_read_cap_to_bytes(probe, cap) != ERIS_OK)
			return eris_error_set(ERIS_EINVAL,
					      "ERIS-FS file entry needs a valid capability and no target");
		break;
	case ERIS_FS_SYMLINK:
		if (cap != NULL || target == NULL)
			return eris_error_set(ERIS_EINVAL,
					      "ERIS-FS symlink entry needs a target and no capability");
		break;
	default:
		return eris_error_set(ERIS_EINVAL, "unknown ERIS-FS entry type %d",
				      (int)type);
	}
	path = malloc(total);
	if (path == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	p = path;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(components[i]);

		memcpy(p, components[i], l);
		p += l;
		*p++ = i + 1 < n ? '/' : '\0';
	}
	return add_checked(idx, path, n, type, cap, target, ERIS_EINVAL);
}

int eris_fs_index_add_path(eris_fs_index *idx, const char *path,
			   eris_fs_type type, const eris_read_cap *cap,
			   const char *target)
{
	const char **comps;
	char *copy;
	size_t n = 1;
	int rc;

	if (idx == NULL || path == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	/* First, for a message with the whole path. */
	if ((rc = eris__fs_path_check(path)) < 0)
		return rc;
	for (const char *s = path; *s; s++)
		n += *s == '/';
	copy = strdup(path);
	comps = malloc(n * sizeof(*comps));
	if (copy == NULL || comps == NULL) {
		free(copy);
		free(comps);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	n = 0;
	comps[n++] = copy;
	for (char *s = copy; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			comps[n++] = s + 1;
		}
	}
	rc = eris_fs_index_add(idx, comps, n, type, cap, target);
	free(comps);
	free(copy);
	return rc;
}

/* ---- CBOR writing ---- */

struct buf {
	uint8_t *p;
	size_t len, alloc;
	int oom;
};

static void put_bytes(struct buf *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (b->alloc - b->len < n) {
		size_t na = b->alloc ? b->alloc : 256;
		uint8_t *np;

		while (na - b->len < n)
			na *= 2;
		np = realloc(b->p, na);
		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->alloc = na;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* The shortest head of major type `major` with argument `v`. */
static void put_head(struct buf *b, unsigned major, uint64_t v)
{
	uint8_t h[9];
	size_t n;

	if (v < 24) {
		h[0] = (uint8_t)(major << 5 | v);
		n = 1;
	} else if (v <= 0xFF) {
		h[0] = (uint8_t)(major << 5 | 24);
		n = 2;
	} else if (v <= 0xFFFF) {
		h[0] = (uint8_t)(major << 5 | 25);
		n = 3;
	} else if (v <= 0xFFFFFFFFu) {
		h[0] = (uint8_t)(major << 5 | 26);
		n = 5;
	} else {
		h[0] = (uint8_t)(major << 5 | 27);
		n = 9;
	}
	for (size_t i = 1; i < n; i++)
		h[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put_bytes(b, h, n);
}

static void put_text(struct buf *b, const char *s, size_t n)
{
	put_head(b, 3, n);
	put_bytes(b, s, n);
}

static int make_key(struct fs_ent *e)
{
	struct buf b = { 0 };
	const char *s = e->path;

	put_head(&b, 4, e->ncomp);
	for (;;) {
		const char *slash = strchr(s, '/');
		size_t l = slash ? (size_t)(slash - s) : strlen(s);

		put_text(&b, s, l);
		if (slash == NULL)
			break;
		s = slash + 1;
	}
	if (b.oom) {
		free(b.p);
		return ERIS_ENOMEM;
	}
	free(e->key);
	e->key = b.p;
	e->key_len = b.len;
	return ERIS_OK;
}

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}

static int ent_key_cmp(const void *x, const void *y)
{
	const struct fs_ent *a = x, *b = y;

	return key_cmp(a->key, a->key_len, b->key, b->key_len);
}

/* Order the joined paths so that a path comes right before the paths
 * below it: '/' compares below every other byte. */
static int path_tree_cmp(const void *x, const void *y)
{
	const unsigned char *a = (const unsigned char *)(*(const struct fs_ent *const *)x)->path;
	const unsigned char *b = (const unsigned char *)(*(const struct fs_ent *const *)y)->path;

	for (;; a++, b++) {
		int ca = *a == '/' ? 1 : *a == 0 ? 0 : *a + 1;
		int cb = *b == '/' ? 1 : *b == 0 ? 0 : *b + 1;

		if (ca != cb || ca == 0)
			return ca - cb;
	}
}

static const char *type_name(eris_fs_type t)
{
	return t == ERIS_FS_SYMLINK ? "a symlink" : "a file";
}

/* Refuse a path that is both an entry and a directory of another. */
static int check_conflicts(const eris_fs_index *idx, int code)
{
	const struct fs_ent **v;
	int rc = ERIS_OK;

	if (idx->n < 2)
		return ERIS_OK;
	v = malloc(idx->n * sizeof(*v));
	if (v == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	for (size_t i = 0; i < idx->n; i++)
		v[i] = &idx->v[i];
	qsort(v, idx->n, sizeof(*v), path_tree_cmp);
	for (size_t i = 0; i + 1 < idx->n; i++) {
		size_t l = strlen(v[i]->path);

		if (strcmp(v[i]->path, v[i + 1]->path) == 0) {
			rc = eris_error_set(code, "ERIS-FS path '%s' appears twice",
					    v[i]->path);
			break;
		}
		if (strncmp(v[i]->path, v[i + 1]->path, l) == 0 &&
		    v[i + 1]->path[l] == '/') {
			rc = eris_error_set(code,
					    "ERIS-FS path '%s' is both %s and a directory (of '%s')",
					    v[i]->path, type_name(v[i]->type),
					    v[i + 1]->path);
			break;
		}
	}
	free(v);
	return rc;
}

int eris_fs_index_sort(eris_fs_index *idx)
{
	if (idx == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	for (size_t i = 0; i < idx->n; i++)
		if (make_key(&idx->v[i]) < 0)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
	if (idx->n > 1)
		qsort(idx->v, idx->n, sizeof(idx->v[0]), ent_key_cmp);
	for (size_t i = 0; i < idx->n; i++) {
		free(idx->v[i].key);
		idx->v[i].key = NULL;
	}
	return check_conflicts(idx, ERIS_EINVAL);
}

int eris_fs_index_encode(uint8_t **out, size_t *out_len, eris_fs_index *idx)
{
	struct buf b = { 0 };
	uint8_t capb[ERIS_READ_CAP_BYTES];
	int rc;

	if (out == NULL || out_len == NULL || idx == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	*out_len = 0;
	if ((rc = eris_fs_index_sort(idx)) < 0)
		return rc;
	put_head(&b, 6, ERIS_FS_TAG);
	put_head(&b, 4, 2);
	put_head(&b, 0, ERIS_FS_VERSION);
	put_head(&b, 5, idx->n);
	for (size_t i = 0; i < idx->n; i++) {
		struct fs_ent *e = &idx->v[i];

		if (make_key(e) < 0) {
			b.oom = 1;
			break;
		}
		put_bytes(&b, e->key, e->key_len);
		free(e->key);
		e->key = NULL;
		put_head(&b, 4, 2);
		put_head(&b, 0, (uint64_t)e->type);
		if (e->type == ERIS_FS_SYMLINK) {
			put_text(&b, e->target, strlen(e->target));
		} else {
			eris_read_cap_to_bytes(capb, &e->cap);
			put_head(&b, 6, 276);
			put_head(&b, 2, sizeof(capb));
			put_bytes(&b, capb, sizeof(capb));
		}
	}
	eris_memzero(capb, sizeof(capb));
	if (b.oom) {
		if (b.p != NULL)
			eris_memzero(b.p, b.len);
		free(b.p);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	*out = b.p;
	*out_len = b.len;
	return ERIS_OK;
}

/* ---- strict parsing ---- */

struct cur {
	const uint8_t *p;
	size_t len, off;
};

/* Read one head: its major type and argument, refusing indefinite,
 * reserved and non-shortest forms. `at` receives the head's offset. */
static int get_head(struct cur *c, unsigned *major, uint64_t *v, size_t *at)
{
	unsigned ai;
	size_t n;

	*major = 0; /* set on failure too: callers' compilers cannot tell */
	*v = 0;
	*at = c->off;
	if (c->off >= c->len)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: truncated", *at);
	*major = c->p[c->off] >> 5;
	ai = c->p[c->off] & 31;
	c->off++;
	if (ai < 24) {
		*v = ai;
		return ERIS_OK;
	}
	if (ai == 31)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: indefinite length (not deterministic CBOR)",
				      *at);
	if (ai > 27)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: reserved additional information %u",
				      *at, ai);
	n = (size_t)1 << (ai - 24);
	if (c->len - c->off < n)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: truncated", *at);
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v << 8 | c->p[c->off + i];
	c->off += n;
	if ((n == 1 && *v < 24) || (n == 2 && *v <= 0xFF) ||
	    (n == 4 && *v <= 0xFFFF) || (n == 8 && *v <= 0xFFFFFFFFu))
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: integer or length %llu not in its shortest form (not deterministic CBOR)",
				      *at, (unsigned long long)*v);
	return ERIS_OK;
}

static const char *major_name(unsigned m)
{
	static const char *const names[8] = {
		"an unsigned integer", "a negative integer", "a byte string",
		"a text string", "an array", "a map", "a tag",
		"a simple value or float"
	};
	return names[m & 7];
}

/* A string of major type `want` (2 or 3): its bytes stay in the input. */
static int get_string(struct cur *c, unsigned want, const uint8_t **s,
		      size_t *n, const char *what)
{
	unsigned major;
	uint64_t v;
	size_t at;
	int rc;

	if ((rc = get_head(c, &major, &v, &at)) < 0)
		return rc;
	if (major != want)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: %s is %s, not %s",
				      at, what, major_name(major),
				      major_name(want));
	if (v > c->len - c->off)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: truncated", at);
	*s = c->p + c->off;
	*n = (size_t)v;
	c->off += (size_t)v;
	return ERIS_OK;
}

static int parse_entry_value(struct cur *c, struct fs_ent *e, unsigned flags)
{
	unsigned major;
	uint64_t v;
	size_t at;
	int rc;

	if ((rc = get_head(c, &major, &v, &at)) < 0)
		return rc;
	if (major != 4)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: entry of '%s' is %s, not an array",
				      at, e->path, major_name(major));
	if (v != 2)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: entry of '%s' has %llu elements, not 2",
				      at, e->path, (unsigned long long)v);
	if ((rc = get_head(c, &major, &v, &at)) < 0)
		return rc;
	if (major != 0)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: entry type of '%s' is %s, not an unsigned integer",
				      at, e->path, major_name(major));
	if (v > ERIS_FS_SYMLINK)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: unknown entry type %llu for '%s'",
				      at, (unsigned long long)v, e->path);
	e->type = (eris_fs_type)v;
	if (e->type == ERIS_FS_SYMLINK) {
		const uint8_t *t;
		size_t n;
		const char *why;

		at = c->off;
		if ((rc = get_string(c, 3, &t, &n, "symlink target")) < 0)
			return rc;
		why = target_problem(t, n, e->ncomp, flags);
		if (why != NULL)
			return eris_error_set(ERIS_EFSINDEX,
					      "ERIS-FS index, byte %zu: '%s' has %s",
					      at, e->path, why);
		e->target = malloc(n + 1);
		if (e->target == NULL)
			return eris_error_set(ERIS_ENOMEM, "out of memory");
		memcpy(e->target, t, n);
		e->target[n] = '\0';
	} else {
		const uint8_t *b;
		size_t n;

		if ((rc = get_head(c, &major, &v, &at)) < 0)
			return rc;
		if (major != 6 || v != 276)
			return eris_error_set(ERIS_EFSINDEX,
					      "ERIS-FS index, byte %zu: content of '%s' is not a read capability (tag 276)",
					      at, e->path);
		at = c->off;
		if ((rc = get_string(c, 2, &b, &n, "read capability")) < 0)
			return rc;
		if (n != ERIS_READ_CAP_BYTES)
			return eris_error_set(ERIS_EFSINDEX,
					      "ERIS-FS index, byte %zu: read capability of '%s' has %zu bytes, not 66",
					      at, e->path, n);
		if (eris_read_cap_from_bytes(&e->cap, b) != ERIS_OK)
			return eris_error_set(ERIS_EFSINDEX,
					      "ERIS-FS index, byte %zu: read capability of '%s' has an invalid block-size code 0x%02x",
					      at, e->path, b[0]);
	}
	return ERIS_OK;
}

/* The key at the cursor: checks the components, sets e->path/ncomp. */
static int parse_key(struct cur *c, struct fs_ent *e)
{
	unsigned major;
	uint64_t v;
	size_t at, total = 0, start;
	char *p;
	int rc;

	if ((rc = get_head(c, &major, &v, &at)) < 0)
		return rc;
	if (major != 4)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: path is %s, not an array",
				      at, major_name(major));
	if (v == 0)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: empty path",
				      at);
	/* Each component takes at least one byte. */
	if (v > c->len - c->off)
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index, byte %zu: truncated", at);
	e->ncomp = (size_t)v;
	start = c->off;
	for (size_t i = 0; i < e->ncomp; i++) {
		const uint8_t *s;
		size_t n;
		const char *why;

		at = c->off;
		if ((rc = get_string(c, 3, &s, &n, "path component")) < 0)
			return rc;
		if ((why = component_problem(s, n)) != NULL)
			return eris_error_set(ERIS_EFSINDEX,
					      "ERIS-FS index, byte %zu: %s",
					      at, why);
		total += n + 1;
	}
	e->path = malloc(total);
	if (e->path == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	/* Second pass over the components, known valid, to join them. */
	c->off = start;
	p = e->path;
	for (size_t i = 0; i < e->ncomp; i++) {
		const uint8_t *s;
		size_t n;

		get_string(c, 3, &s, &n, "path component");
		memcpy(p, s, n);
		p += n;
		*p++ = i + 1 < e->ncomp ? '/' : '\0';
	}
	return ERIS_OK;
}

int eris_fs_index_parse(eris_fs_index **out, const uint8_t *in, size_t len,
			unsigned flags)
{
	struct cur c = { in, len, 0 };
	eris_fs_index *idx;
	unsigned major;
	uint64_t v, count;
	size_t at, prev_key = 0, prev_len = 0;
	int rc;

	if (out == NULL || (in == NULL && len > 0))
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if ((rc = eris_fs_index_new(&idx, flags)) < 0)
		return rc;
	if (len == 0) {
		rc = eris_error_set(ERIS_EFSINDEX,
				    "not an ERIS-FS index: empty content");
		goto fail;
	}
	if ((rc = get_head(&c, &major, &v, &at)) < 0)
		goto fail;
	if (major != 6) {
		rc = eris_error_set(ERIS_EFSINDEX,
				    "not an ERIS-FS index: starts with %s, not tag %u",
				    major_name(major), ERIS_FS_TAG);
		goto fail;
	}
	if (v != ERIS_FS_TAG) {
		rc = eris_error_set(ERIS_EFSINDEX,
				    "not an ERIS-FS index: tag %llu, not %u",
				    (unsigned long long)v, ERIS_FS_TAG);
		goto fail;
	}
	if ((rc = get_head(&c, &major, &v, &at)) < 0)
		goto fail;
	if (major != 4 || v != 2) {
		rc = eris_error_set(ERIS_EFSINDEX,
				    "ERIS-FS index, byte %zu: the tagged item must be an array of 2 (version, map)",
				    at);
		goto fail;
	}
	if ((rc = get_head(&c, &major, &v, &at)) < 0)
		goto fail;
	if (major != 0 || v != ERIS_FS_VERSION) {
		if (major == 0 || major == 1)
			rc = eris_error_set(ERIS_EFSINDEX,
					    "unsupported ERIS-FS version %s%llu (only 1 is known)",
					    major == 1 ? "-" : "",
					    (unsigned long long)v + (major == 1));
		else
			rc = eris_error_set(ERIS_EFSINDEX,
					    "ERIS-FS index, byte %zu: version is %s, not an unsigned integer",
					    at, major_name(major));
		goto fail;
	}
	if ((rc = get_head(&c, &major, &count, &at)) < 0)
		goto fail;
	if (major != 5) {
		rc = eris_error_set(ERIS_EFSINDEX,
				    "ERIS-FS index, byte %zu: entries are %s, not a map",
				    at, major_name(major));
		goto fail;
	}
	/* An entry takes at least 5 bytes: no allocation beyond the input. */
	if (count > (len - c.off) / 5) {
		rc = eris_error_set(ERIS_EFSINDEX,
				    "ERIS-FS index, byte %zu: %llu entries cannot fit in %zu bytes",
				    at, (unsigned long long)count, len - c.off);
		goto fail;
	}
	for (uint64_t i = 0; i < count; i++) {
		struct fs_ent *e = push(idx);
		size_t key_at = c.off;

		if (e == NULL) {
			rc = eris_error_set(ERIS_ENOMEM, "out of memory");
			goto fail;
		}
		if ((rc = parse_key(&c, e)) < 0)
			goto fail;
		if (i > 0) {
			int cmp = key_cmp(in + prev_key, prev_len, in + key_at,
					  c.off - key_at);

			if (cmp == 0) {
				rc = eris_error_set(ERIS_EFSINDEX,
						    "ERIS-FS index, byte %zu: path '%s' appears twice",
						    key_at, e->path);
				goto fail;
			}
			if (cmp > 0) {
				rc = eris_error_set(ERIS_EFSINDEX,
						    "ERIS-FS index, byte %zu: path '%s' out of order (keys not sorted: not deterministic CBOR)",
						    key_at, e->path);
				goto fail;
			}
		}
		prev_key = key_at;
		prev_len = c.off - key_at;
		if ((rc = parse_entry_value(&c, e, flags)) < 0)
			goto fail;
	}
	if (c.off != len) {
		rc = eris_error_set(ERIS_EFSINDEX,
				    "ERIS-FS index, byte %zu: %zu bytes after the index",
				    c.off, len - c.off);
		goto fail;
	}
	if ((rc = check_conflicts(idx, ERIS_EFSINDEX)) < 0)
		goto fail;
	*out = idx;
	return ERIS_OK;
fail:
	eris_fs_index_free(idx);
	return rc;
}

int eris_fs_index_load(eris_fs_index **out, eris_store *store,
		       const eris_read_cap *cap, unsigned flags,
		       uint64_t max_len)
{
	eris_decoder *dec = NULL;
	uint8_t *buf = NULL;
	uint64_t len;
	size_t got = 0;
	int rc;

	if (out == NULL || store == NULL || cap == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	if (max_len == 0)
		max_len = (uint64_t)256 << 20;
	if ((rc = eris_decoder_new(&dec, store, cap)) < 0)
		return rc;
	len = eris_decoder_length(dec);
	if (len > max_len || len > SIZE_MAX) {
		eris_decoder_free(dec);
		return eris_error_set(ERIS_EFSINDEX,
				      "ERIS-FS index of %llu bytes is longer than the limit of %llu",
				      (unsigned long long)len,
				      (unsigned long long)max_len);
	}
	buf = malloc(len ? (size_t)len : 1);
	if (buf == NULL) {
		eris_decoder_free(dec);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	rc = eris_decoder_pread(dec, buf, (size_t)len, 0, &got);
	eris_decoder_free(dec);
	if (rc == ERIS_OK && got != len)
		rc = eris_error_set(ERIS_ERROR, "short read of the ERIS-FS index");
	if (rc == ERIS_OK)
		rc = eris_fs_index_parse(out, buf, got, flags);
	eris_memzero(buf, got);
	free(buf);
	return rc;
}
