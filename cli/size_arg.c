/*
 * size_arg.c - see size_arg.h.
 */
#include "size_arg.h"

#include <errno.h>
#include <stdlib.h>

int size_arg_parse(const char *s, size_t max, size_t *out)
{
	char *end;
	unsigned long long v, unit = 1;

	if (*s < '0' || *s > '9') /* strtoull would take "-1" or " 1" */
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': unit = 1ull << 10; end++; break;
	case 'm': case 'M': unit = 1ull << 20; end++; break;
	case 'g': case 'G': unit = 1ull << 30; end++; break;
	default: break;
	}
	if (*end || v > max / unit)
		return -1;
	*out = (size_t)(v * unit);
	return 0;
}
