/*
 * tar.c - see tar.h.
 */
#include "tar.h"
#include "erispatch.h"

#include <string.h>

#define TAR_BLOCK 512u
#define TAR_RECORD 10240u

/* fwrite all of it, counted; 0 or -1. */
static int put(tar_writer *w, const void *data, size_t len)
{
	if (fwrite(data, 1, len, w->f) != len)
		return -1;
	w->size += len;
	return 0;
}

static int write_header(tar_writer *w, const char *name, size_t name_len,
			uint64_t size, unsigned mode, char type)
{
	uint8_t h[TAR_BLOCK];
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	memcpy(h, name, name_len < 100 ? name_len : 100);
	snprintf((char *)h + 100, 8, "%07o", mode & 07777);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = (uint8_t)type;
	memcpy(h + 257, "ustar  ", 8); /* GNU magic and version */
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	return put(w, h, sizeof(h));
}

static int write_padded(tar_writer *w, const uint8_t *data, size_t len)
{
	static const uint8_t zero[TAR_BLOCK];
	size_t pad = (TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK;

	if (len && put(w, data, len) != 0)
		return -1;
	return pad ? put(w, zero, pad) : 0;
}

int tar_add_file(tar_writer *w, const char *name, const uint8_t *data,
		 size_t len, unsigned mode)
{
	size_t n = strlen(name);

	if ((uint64_t)len >= (1ull << 33))
		return report("%s: too large for a tar member", name);
	if (n >= 100) {
		static const char link[] = "././@LongLink";
		if (write_header(w, link, sizeof(link) - 1, n + 1, 0, 'L') != 0 ||
		    write_padded(w, (const uint8_t *)name, n + 1) != 0)
			return report("write error");
	}
	if (write_header(w, name, n, len, mode, '0') != 0 ||
	    write_padded(w, data, len) != 0)
		return report("write error");
	return 0;
}

int tar_finish(tar_writer *w)
{
	static const uint8_t zero[TAR_BLOCK];
	uint64_t end = w->size + 2 * TAR_BLOCK;
	uint64_t total = (end + TAR_RECORD - 1) / TAR_RECORD * TAR_RECORD;

	while (w->size < total)
		if (put(w, zero, TAR_BLOCK) != 0)
			return report("write error");
	return 0;
}
