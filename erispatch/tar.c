/*
 * tar.c - see tar.h.
 */
#include "tar.h"
#include "erispatch.h"

#include <string.h>

#define TAR_BLOCK 512u
#define TAR_RECORD 10240u

static int write_header(FILE *f, const char *name, size_t name_len,
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
	return fwrite(h, 1, sizeof(h), f) == sizeof(h) ? 0 : -1;
}

static int write_padded(FILE *f, const uint8_t *data, size_t len)
{
	static const uint8_t zero[TAR_BLOCK];
	size_t pad = (TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK;

	if (len && fwrite(data, 1, len, f) != len)
		return -1;
	return pad && fwrite(zero, 1, pad, f) != pad ? -1 : 0;
}

int tar_add_file(FILE *f, const char *name, const uint8_t *data, size_t len,
		 unsigned mode)
{
	size_t n = strlen(name);

	if ((uint64_t)len >= (1ull << 33))
		return report("%s: too large for a tar member", name);
	if (n >= 100) {
		static const char link[] = "././@LongLink";
		if (write_header(f, link, sizeof(link) - 1, n + 1, 0, 'L') != 0 ||
		    write_padded(f, (const uint8_t *)name, n + 1) != 0)
			return report("write error");
	}
	if (write_header(f, name, n, len, mode, '0') != 0 ||
	    write_padded(f, data, len) != 0)
		return report("write error");
	return 0;
}

int tar_finish(FILE *f)
{
	static const uint8_t zero[TAR_BLOCK];
	long pos = ftell(f);

	if (pos < 0)
		return report("cannot tell the archive's size");
	uint64_t end = (uint64_t)pos + 2 * TAR_BLOCK;
	uint64_t total = (end + TAR_RECORD - 1) / TAR_RECORD * TAR_RECORD;
	for (uint64_t i = (uint64_t)pos; i < total; i += TAR_BLOCK)
		if (fwrite(zero, 1, TAR_BLOCK, f) != TAR_BLOCK)
			return report("write error");
	return 0;
}
