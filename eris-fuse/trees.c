/*
 * trees.c - ERIS-FS indexes as directory trees, in an LRU list under one
 * mutex. A tree is loaded outside the lock (it reads and verifies the
 * whole index); trees in use are never freed.
 */
#include "trees.h"
#include "nodes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct tdir {
	const char *path; /* the prefix of an entry's path; "" for the root */
	size_t len;
	uint32_t parent;
	size_t first, count; /* its children in tree->children */
} tdir;

struct efuse_tree {
	struct efuse_tree *prev, *next; /* most recently used first */
	eris_read_cap cap;
	uint8_t cap_bytes[ERIS_READ_CAP_BYTES];
	eris_fs_index *idx;
	size_t n_entries, n_dirs, n_children;
	tdir *dirs;
	efuse_tchild *children; /* sorted by (directory, name) */
	size_t bytes;           /* estimated memory */
	unsigned refs;
};

struct efuse_trees {
	pthread_mutex_t lock;
	eris_store *store;
	size_t limit, idle;
	efuse_tree *head;
};

/* ---- building ----------------------------------------------------------- */

typedef struct {
	const char *s;
	size_t len;
} str;

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int cmp_str(const void *pa, const void *pb)
{
	const str *a = pa, *b = pb;

	return cmp_bytes(a->s, a->len, b->s, b->len);
}

static int cmp_child(const efuse_tchild *a, const efuse_tchild *b)
{
	return cmp_bytes(a->name, a->name_len, b->name, b->name_len);
}

static const char *last_slash(const char *s, size_t len)
{
	while (len > 0)
		if (s[--len] == '/')
			return s + len;
	return NULL;
}

/* The number of the directory whose path is `len` bytes at `s`. */
static uint32_t find_dir(const efuse_tree *t, const char *s, size_t len)
{
	size_t lo = 1, hi = t->n_dirs;

	if (len == 0)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_bytes(t->dirs[mid].path, t->dirs[mid].len, s, len);

		if (c == 0)
			return (uint32_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0; /* cannot happen: every prefix was collected */
}

/* A child and its directory, sorted together. */
typedef struct {
	uint32_t dir;
	efuse_tchild c;
} pending;

static int cmp_pending(const void *pa, const void *pb)
{
	const pending *a = pa, *b = pb;

	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	return cmp_child(&a->c, &b->c);
}

static int build(efuse_tree *t)
{
	size_t n = eris_fs_index_count(t->idx), n_pre = 0, np = 0;
	str *pre = NULL;
	pending *pend = NULL;
	int rc = ERIS_ENOMEM;

	t->n_entries = n;
	t->bytes = sizeof(*t);
	/* Every proper prefix of every path is a directory. */
	for (size_t i = 0; i < n; i++) {
		eris_fs_entry e;

		eris_fs_index_entry(t->idx, i, &e);
		n_pre += e.n_components - 1;
		t->bytes += strlen(e.path) + 1 + sizeof(e) +
			    (e.target ? strlen(e.target) + 1 : 0);
	}
	pre = malloc((n_pre + 1) * sizeof(*pre));
	if (pre == NULL)
		goto out;
	n_pre = 0;
	for (size_t i = 0; i < n; i++) {
		eris_fs_entry e;

		eris_fs_index_entry(t->idx, i, &e);
		for (const char *p = e.path; (p = strchr(p, '/')) != NULL; p++)
			pre[n_pre++] = (str){ e.path, (size_t)(p - e.path) };
	}
	qsort(pre, n_pre, sizeof(*pre), cmp_str);
	t->dirs = calloc(n_pre + 1, sizeof(*t->dirs));
	if (t->dirs == NULL)
		goto out;
	t->dirs[0].path = "";
	t->n_dirs = 1;
	for (size_t i = 0; i < n_pre; i++) {
		tdir *last = &t->dirs[t->n_dirs - 1];

		if (t->n_dirs > 1 &&
		    cmp_bytes(last->path, last->len, pre[i].s, pre[i].len) == 0)
			continue;
		t->dirs[t->n_dirs].path = pre[i].s;
		t->dirs[t->n_dirs].len = pre[i].len;
		t->n_dirs++;
	}

	/* Children: the directories but the root, then the entries. */
	pend = malloc((t->n_dirs + n) * sizeof(*pend));
	if (pend == NULL)
		goto out;
	for (size_t d = 1; d < t->n_dirs; d++) {
		tdir *dir = &t->dirs[d];
		const char *slash = last_slash(dir->path, dir->len);
		size_t plen = slash ? (size_t)(slash - dir->path) : 0;
		const char *name = slash ? slash + 1 : dir->path;

		dir->parent = find_dir(t, dir->path, plen);
		pend[np++] = (pending){ dir->parent,
			{ name, (uint32_t)(dir->path + dir->len - name), 1,
			  (uint32_t)d } };
	}
	for (size_t i = 0; i < n; i++) {
		eris_fs_entry e;
		const char *slash;
		size_t len;

		eris_fs_index_entry(t->idx, i, &e);
		len = strlen(e.path);
		slash = last_slash(e.path, len);
		pend[np++] = (pending){
			slash ? find_dir(t, e.path, (size_t)(slash - e.path)) : 0,
			{ slash ? slash + 1 : e.path,
			  (uint32_t)(e.path + len - (slash ? slash + 1 : e.path)),
			  0, (uint32_t)i } };
	}
	qsort(pend, np, sizeof(*pend), cmp_pending);
	t->children = malloc((np ? np : 1) * sizeof(*t->children));
	if (t->children == NULL)
		goto out;
	for (size_t i = 0; i < np; i++) {
		tdir *dir = &t->dirs[pend[i].dir];

		if (dir->count == 0)
			dir->first = i;
		dir->count++;
		t->children[i] = pend[i].c;
	}
	t->n_children = np;
	t->bytes += t->n_dirs * sizeof(*t->dirs) +
		    np * sizeof(*t->children);
	rc = ERIS_OK;
out:
	free(pre);
	free(pend);
	return rc;
}

static void tree_free(efuse_tree *t)
{
	if (t == NULL)
		return;
	eris_fs_index_free(t->idx);
	free(t->dirs);
	free(t->children);
	free(t);
}

static int tree_load(efuse_trees *trees, const eris_read_cap *cap,
		     efuse_tree **out)
{
	efuse_tree *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (t == NULL)
		return ERIS_ENOMEM;
	t->cap = *cap;
	eris_read_cap_to_bytes(t->cap_bytes, cap);
	/* Links are shown, never followed by us: absolute targets are
	 * resolved by the reader's kernel, as on any file system. */
	rc = eris_fs_index_load(&t->idx, trees->store, cap,
				ERIS_FS_EXTERNAL_LINKS, 0);
	if (rc == ERIS_OK)
		rc = build(t);
	if (rc != ERIS_OK) {
		tree_free(t);
		return rc;
	}
	*out = t;
	return ERIS_OK;
}

/* ---- the cache ---------------------------------------------------------- */

int efuse_trees_new(efuse_trees **out, eris_store *store, size_t limit)
{
	efuse_trees *trees = calloc(1, sizeof(*trees));

	*out = NULL;
	if (trees == NULL)
		return ERIS_ENOMEM;
	if (pthread_mutex_init(&trees->lock, NULL) != 0) {
		free(trees);
		return ERIS_ENOMEM;
	}
	trees->store = store;
	trees->limit = limit;
	*out = trees;
	return ERIS_OK;
}

void efuse_trees_free(efuse_trees *trees)
{
	if (trees == NULL)
		return;
	while (trees->head) {
		efuse_tree *t = trees->head;

		trees->head = t->next;
		tree_free(t);
	}
	pthread_mutex_destroy(&trees->lock);
	free(trees);
}

static void unlink_tree(efuse_trees *trees, efuse_tree *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		trees->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

static void push_front(efuse_trees *trees, efuse_tree *t)
{
	t->prev = NULL;
	t->next = trees->head;
	if (trees->head)
		trees->head->prev = t;
	trees->head = t;
}

/* Called locked: take a reference to the cached tree of `cap`. */
static efuse_tree *find_ref(efuse_trees *trees, const eris_read_cap *cap)
{
	for (efuse_tree *t = trees->head; t; t = t->next) {
		if (!eris_read_cap_equal(&t->cap, cap))
			continue;
		if (t->refs++ == 0)
			trees->idle -= t->bytes;
		unlink_tree(trees, t);
		push_front(trees, t);
		return t;
	}
	return NULL;
}

int efuse_trees_get(efuse_trees *trees, const eris_read_cap *cap,
		    efuse_tree **out)
{
	efuse_tree *t, *loaded;
	int rc;

	pthread_mutex_lock(&trees->lock);
	t = find_ref(trees, cap);
	pthread_mutex_unlock(&trees->lock);
	if (t) {
		*out = t;
		return ERIS_OK;
	}
	rc = tree_load(trees, cap, &loaded);
	if (rc != ERIS_OK) {
		*out = NULL;
		return rc;
	}
	pthread_mutex_lock(&trees->lock);
	t = find_ref(trees, cap); /* loaded meanwhile by another request */
	if (t == NULL) {
		t = loaded;
		loaded = NULL;
		t->refs = 1;
		push_front(trees, t);
	}
	pthread_mutex_unlock(&trees->lock);
	tree_free(loaded);
	*out = t;
	return ERIS_OK;
}

void efuse_trees_put(efuse_trees *trees, efuse_tree *tree)
{
	efuse_tree *victims = NULL;

	if (tree == NULL)
		return;
	pthread_mutex_lock(&trees->lock);
	if (--tree->refs == 0)
		trees->idle += tree->bytes;
	/* Evict the least recently used unused trees over the limit. */
	while (trees->idle > trees->limit) {
		efuse_tree *t = trees->head, *last = NULL;

		for (; t; t = t->next)
			if (t->refs == 0)
				last = t;
		if (last == NULL)
			break;
		unlink_tree(trees, last);
		trees->idle -= last->bytes;
		last->next = victims;
		victims = last;
	}
	pthread_mutex_unlock(&trees->lock);
	while (victims) {
		efuse_tree *t = victims;

		victims = t->next;
		tree_free(t);
	}
}

size_t efuse_trees_idle_bytes(efuse_trees *trees)
{
	size_t n;

	pthread_mutex_lock(&trees->lock);
	n = trees->idle;
	pthread_mutex_unlock(&trees->lock);
	return n;
}

/* ---- reading ------------------------------------------------------------ */

size_t efuse_tree_dir_size(const efuse_tree *t, uint32_t dir)
{
	return dir < t->n_dirs ? t->dirs[dir].count : 0;
}

const efuse_tchild *efuse_tree_dir_child(const efuse_tree *t, uint32_t dir,
					 size_t i)
{
	if (dir >= t->n_dirs || i >= t->dirs[dir].count)
		return NULL;
	return &t->children[t->dirs[dir].first + i];
}

const efuse_tchild *efuse_tree_lookup(const efuse_tree *t, uint32_t dir,
				      const char *name)
{
	size_t lo, hi, len = strlen(name);

	if (dir >= t->n_dirs)
		return NULL;
	lo = t->dirs[dir].first;
	hi = lo + t->dirs[dir].count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const efuse_tchild *c = &t->children[mid];
		int r = cmp_bytes(c->name, c->name_len, name, len);

		if (r == 0)
			return c;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint32_t efuse_tree_parent(const efuse_tree *t, uint32_t dir)
{
	return dir < t->n_dirs ? t->dirs[dir].parent : 0;
}

void efuse_tree_entry(const efuse_tree *t, uint32_t num, eris_fs_entry *out)
{
	eris_fs_index_entry(t->idx, num, out);
}

int efuse_tree_has_dir(const efuse_tree *t, uint32_t dir)
{
	return dir < t->n_dirs;
}

int efuse_tree_has_entry(const efuse_tree *t, uint32_t num)
{
	return num < t->n_entries;
}

/* FNV-1a over the capability, a kind byte and the path: the same
 * number in every mount, distinct from the inode of the same bytes as
 * plain content (which hashes the capability alone). */
static uint64_t path_ino(const efuse_tree *t, uint8_t kind, const char *path,
			 size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < sizeof(t->cap_bytes); i++)
		h = (h ^ t->cap_bytes[i]) * 0x100000001b3u;
	h = (h ^ kind) * 0x100000001b3u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)path[i]) * 0x100000001b3u;
	return h <= 1 ? h + 2 : h;
}

uint64_t efuse_tree_dir_ino(const efuse_tree *t, uint32_t dir)
{
	if (dir == 0) /* the tree itself: the inode of its URN */
		return efuse_cap_ino(&t->cap);
	return path_ino(t, 'd', t->dirs[dir].path, t->dirs[dir].len);
}

uint64_t efuse_tree_entry_ino(const efuse_tree *t, uint32_t num)
{
	eris_fs_entry e;

	eris_fs_index_entry(t->idx, num, &e);
	return path_ino(t, 'e', e.path, strlen(e.path));
}
