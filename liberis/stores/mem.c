/*
 * mem.c - the in-memory store: an open-addressing hash table keyed by the
 * block reference (already a uniform hash, so its first 8 bytes index the
 * table). Guarded by a read-write lock so several readers can share it.
 */
#include "../internal.h"

#include <pthread.h>
#include <string.h>

typedef struct {
	uint8_t ref[ERIS_REF_BYTES];
	uint8_t *data; /* NULL marks an empty slot */
	size_t len;
} mem_entry;

typedef struct {
	eris_store_backend parent;
	pthread_rwlock_t lock;
	mem_entry *slots;
	size_t capacity; /* a power of two */
	size_t count;
} mem_store;

static size_t slot_of(const mem_store *m, const uint8_t *ref)
{
	uint64_t h;

	memcpy(&h, ref, sizeof(h));
	return (size_t)h & (m->capacity - 1);
}

static mem_entry *find(mem_store *m, const uint8_t *ref)
{
	size_t i = slot_of(m, ref);

	while (m->slots[i].data) {
		if (memcmp(m->slots[i].ref, ref, ERIS_REF_BYTES) == 0)
			return &m->slots[i];
		i = (i + 1) & (m->capacity - 1);
	}
	return &m->slots[i];
}

static int grow(mem_store *m)
{
	size_t old_cap = m->capacity;
	mem_entry *old = m->slots;
	mem_entry *slots = eris__calloc(old_cap * 2, sizeof(*slots));

	if (slots == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	m->slots = slots;
	m->capacity = old_cap * 2;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].data)
			*find(m, old[i].ref) = old[i];
	eris__free(old);
	return ERIS_OK;
}

static int mem_get(eris_store_backend *b, const uint8_t *ref, uint8_t *buf,
		   size_t buf_size, size_t *out_len)
{
	mem_store *m = (mem_store *)b;
	mem_entry *e;
	int rc = ERIS_OK;

	pthread_rwlock_rdlock(&m->lock);
	e = find(m, ref);
	if (e->data == NULL)
		rc = ERIS_ENOTFOUND;
	else if (e->len > buf_size)
		rc = eris_error_set(ERIS_EBLOCKSIZE,
				    "stored block of %zu bytes does not fit "
				    "in %zu",
				    e->len, buf_size);
	else {
		memcpy(buf, e->data, e->len);
		*out_len = e->len;
	}
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

static int mem_put(eris_store_backend *b, const uint8_t *ref,
		   const uint8_t *block, size_t len)
{
	mem_store *m = (mem_store *)b;
	mem_entry *e;
	uint8_t *copy;
	int rc = ERIS_OK;

	pthread_rwlock_wrlock(&m->lock);
	if (find(m, ref)->data)
		goto out; /* blocks never change: nothing to do */
	if ((m->count + 1) * 2 > m->capacity && (rc = grow(m)) < 0)
		goto out;
	copy = eris__malloc(len);
	if (copy == NULL) {
		rc = eris_error_set(ERIS_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(copy, block, len);
	e = find(m, ref);
	memcpy(e->ref, ref, ERIS_REF_BYTES);
	e->data = copy;
	e->len = len;
	m->count++;
out:
	pthread_rwlock_unlock(&m->lock);
	return rc;
}

static int mem_has(eris_store_backend *b, const uint8_t *ref)
{
	mem_store *m = (mem_store *)b;
	int present;

	pthread_rwlock_rdlock(&m->lock);
	present = find(m, ref)->data != NULL;
	pthread_rwlock_unlock(&m->lock);
	return present;
}

static void mem_free(eris_store_backend *b)
{
	mem_store *m = (mem_store *)b;

	for (size_t i = 0; i < m->capacity; i++)
		eris__free(m->slots[i].data);
	eris__free(m->slots);
	pthread_rwlock_destroy(&m->lock);
	eris__free(m);
}

int eris_store_new_mem(eris_store **out)
{
	mem_store *m;

	*out = NULL;
	m = eris__calloc(1, sizeof(*m));
	if (m == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	m->capacity = 64;
	m->slots = eris__calloc(m->capacity, sizeof(*m->slots));
	if (m->slots == NULL) {
		eris__free(m);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	pthread_rwlock_init(&m->lock, NULL);
	m->parent.version = ERIS_STORE_BACKEND_VERSION;
	m->parent.get = mem_get;
	m->parent.put = mem_put;
	m->parent.has = mem_has;
	m->parent.free = mem_free;
	return eris_store_new_from_backend(out, &m->parent);
}
