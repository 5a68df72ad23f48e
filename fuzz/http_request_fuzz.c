/*
 * http_request_fuzz.c - libFuzzer target for erisd's HTTP request parser
 * (erisd/proto.c) and Range parser. It checks, besides the absence of
 * crashes and sanitizer reports, two properties:
 *   (1) feeding the input whole and in two pieces (split at a point taken
 *       from the first byte) gives the same result: the parser is
 *       resumable;
 *   (2) a parsed request's head length never exceeds the input, and the
 *       Content-Length is within the limit.
 * Built with clang -fsanitize=fuzzer when available, otherwise linked with
 * standalone.c, which replays a corpus directory (the ctest test).
 */
#include "proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	http_parser p1, p2;
	http_request r1, r2;
	int a, b;
	size_t split;

	http_parser_init(&p1);
	a = http_parse(&p1, data, size, &r1);
	if (a == HTTP_DONE) {
		if (r1.head_len > size || r1.content_length > HTTP_MAX_BODY)
			abort();
		if (r1.has_range) {
			uint64_t first = 0, last = 0;
			int rc = http_range(r1.range, strlen(r1.range),
					    size, &first, &last);

			if (rc == RANGE_OK && (first > last || last >= size))
				abort();
		}
	}
	split = size ? data[0] % (size + 1) : 0;
	http_parser_init(&p2);
	b = http_parse(&p2, data, split, &r2);
	if (b == HTTP_NEED_MORE)
		b = http_parse(&p2, data, size, &r2);
	if (a != b)
		abort();
	if (a == HTTP_DONE && (r1.head_len != r2.head_len ||
			       r1.content_length != r2.content_length ||
			       r1.method != r2.method || r1.kind != r2.kind))
		abort();
	return 0;
}
