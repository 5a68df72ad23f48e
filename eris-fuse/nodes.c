/*
 * nodes.c - a hash table of inodes under one mutex.
 */
#include "nodes.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define BUCKETS 4096u

typedef struct node {
	struct node *next;
	uint64_t ino, nlookup;
	efuse_node_info info;
} node;

struct efuse_nodes {
	pthread_mutex_t lock;
	node *bucket[BUCKETS];
};

uint64_t efuse_hash_ino(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a offset basis */

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3u; /* FNV prime */
	}
	/* 0 is no inode and 1 the root directory. */
	return h <= 1 ? h + 2 : h;
}

uint64_t efuse_cap_ino(const eris_read_cap *cap)
{
	uint8_t bytes[ERIS_READ_CAP_BYTES];

	if (eris_read_cap_to_bytes(bytes, cap) != ERIS_OK)
		return 2;
	return efuse_hash_ino(bytes, sizeof(bytes));
}

int efuse_nodes_new(efuse_nodes **out)
{
	efuse_nodes *nodes = calloc(1, sizeof(*nodes));

	*out = NULL;
	if (nodes == NULL)
		return -1;
	if (pthread_mutex_init(&nodes->lock, NULL) != 0) {
		free(nodes);
		return -1;
	}
	*out = nodes;
	return 0;
}

void efuse_nodes_free(efuse_nodes *nodes)
{
	if (nodes == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		while (nodes->bucket[i]) {
			node *n = nodes->bucket[i];

			nodes->bucket[i] = n->next;
			free(n);
		}
	}
	pthread_mutex_destroy(&nodes->lock);
	free(nodes);
}

static node **find(efuse_nodes *nodes, uint64_t ino)
{
	node **pp = &nodes->bucket[ino % BUCKETS];

	while (*pp && (*pp)->ino != ino)
		pp = &(*pp)->next;
	return pp;
}

int efuse_nodes_get(efuse_nodes *nodes, uint64_t ino, efuse_node_info *out)
{
	node *n;

	pthread_mutex_lock(&nodes->lock);
	n = *find(nodes, ino);
	if (n)
		*out = n->info;
	pthread_mutex_unlock(&nodes->lock);
	return n ? 0 : -1;
}

int efuse_nodes_ref(efuse_nodes *nodes, uint64_t ino,
		    const efuse_node_info *info)
{
	node **pp, *n;
	int ret = 0;

	pthread_mutex_lock(&nodes->lock);
	pp = find(nodes, ino);
	n = *pp;
	if (n) {
		if (eris_read_cap_equal(&n->info.cap, &info->cap) &&
		    n->info.kind == info->kind &&
		    eris_read_cap_equal(&n->info.tree, &info->tree) &&
		    n->info.num == info->num)
			n->nlookup++;
		else
			ret = EEXIST;
	} else if ((n = calloc(1, sizeof(*n))) != NULL) {
		n->ino = ino;
		n->nlookup = 1;
		n->info = *info;
		*pp = n;
	} else {
		ret = ENOMEM;
	}
	pthread_mutex_unlock(&nodes->lock);
	return ret;
}

int efuse_nodes_forget(efuse_nodes *nodes, uint64_t ino, uint64_t count)
{
	node **pp, *n;
	int gone = 0;

	pthread_mutex_lock(&nodes->lock);
	pp = find(nodes, ino);
	n = *pp;
	if (n) {
		n->nlookup = count < n->nlookup ? n->nlookup - count : 0;
		if (n->nlookup == 0) {
			*pp = n->next;
			free(n);
			gone = 1;
		}
	}
	pthread_mutex_unlock(&nodes->lock);
	return gone;
}
