/*
 * tests/erisd/proto.c - unit tests of erisd's HTTP request parser
 * (erisd/proto.c): a table of good and malformed requests with the exact
 * status expected, the same table fed one byte at a time (the parser is
 * resumable), the limits at and just past their edges, and Range.
 */
#include "proto.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define BLK "/uri-res/N2R?urn:blake2b:" REF
/* A valid capability (1 KiB blocks, level 0). */
#define CAP "BIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static const struct {
	const char *req;
	int status; /* HTTP_DONE or an error status */
} table[] = {
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_DONE },
	{ "HEAD " BLK " HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_DONE },
	{ "GET " BLK " HTTP/1.0\r\n\r\n", HTTP_DONE },
	{ "GET /uri-res/N2R?URN:BLAKE2B:" REF " HTTP/1.1\r\nHost: a\r\n\r\n",
	  HTTP_DONE },
	{ "GET /uri-res/N2R?urn:eris:" CAP " HTTP/1.1\r\nHost: a\r\n\r\n",
	  HTTP_DONE },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: 1024\r\n\r\n",
	  HTTP_DONE },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n"
	  "content-length: 7\r\n\r\n", HTTP_DONE },
	{ "GET " BLK " HTTP/1.9\r\nHost: a\r\n\r\n", HTTP_DONE },
	{ "GET " BLK " HTTP/1.1\r\nHost:a\r\nX-Empty:\r\n\r\n", HTTP_DONE },
	/* methods */
	{ "POST " BLK " HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
	{ "DELETE " BLK " HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
	{ "get " BLK " HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
	{ "PUT /uri-res/N2R?urn:eris:" CAP " HTTP/1.1\r\nHost: a\r\n"
	  "Content-Length: 1\r\n\r\n", 405 },
	{ "G(T " BLK " HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	/* request line */
	{ "GET  " BLK " HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET " BLK "  HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
	{ "GET " BLK "\r\nHost: a\r\n\r\n", 400 },
	{ "GET " BLK " http/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
	{ "GET " BLK " HTTP/0.9\r\nHost: a\r\n\r\n", 505 },
	{ "GET " BLK " HTTP/11\r\nHost: a\r\n\r\n", 400 },
	{ "\r\nGET " BLK " HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	/* line endings */
	{ "GET " BLK " HTTP/1.1\nHost: a\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\n\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\rX\r\n\r\n", 400 },
	/* headers */
	{ "GET " BLK " HTTP/1.1\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost : a\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	  "Content-Length: 6\r\n\r\n", 400 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
	  400 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
	  400 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
	  400 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
	  400 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
	  400 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: 32769\r\n\r\n",
	  413 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nContent-Length: "
	  "99999999999999999999999999\r\n\r\n", 413 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\n\r\n", 411 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "\r\n", 501 },
	{ "PUT " BLK " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	  "Content-Length: 1024\r\n\r\n", 501 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n", 417 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n"
	  "Range: bytes=2-3\r\n\r\n", 400 },
	{ "GET " BLK " HTTP/1.1\r\nHost: a\r\nAuthorization: a\r\n"
	  "Authorization: b\r\n\r\n", 400 },
	/* targets */
	{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 404 },
	{ "GET /uri-res/N2R HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /uri-res/N2Rx?urn:blake2b:" REF " HTTP/1.1\r\nHost: a\r\n\r\n",
	  404 },
	{ "GET http://a" BLK " HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /uri-res/N2R?urn:blake2b:" REF "A HTTP/1.1\r\nHost: a\r\n\r\n",
	  400 },
	{ "GET /uri-res/N2R?urn:blake2b:aAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAA HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /uri-res/N2R?urn:blake2b:1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAA HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
	{ "GET /uri-res/N2R?urn:blake2b:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAB HTTP/1.1\r\nHost: a\r\n\r\n", 400 }, /* filler */
	{ "GET /uri-res/N2R?urn%3Ablake2b%3A" REF " HTTP/1.1\r\nHost: a\r\n"
	  "\r\n", 400 },
	{ "GET /uri-res/N2R?urn:sha256:" REF " HTTP/1.1\r\nHost: a\r\n\r\n",
	  400 },
	{ "GET /uri-res/N2R?urn:eris:" CAP "A HTTP/1.1\r\nHost: a\r\n\r\n",
	  400 },
	{ "GET /uri-res/N2R?urn:eris:X" CAP " HTTP/1.1\r\nHost: a\r\n\r\n",
	  400 },
};

static int parse_whole(const char *s, size_t len, http_request *req)
{
	http_parser p;

	http_parser_init(&p);
	return http_parse(&p, (const uint8_t *)s, len, req);
}

/* Feed one byte more each call; the result must not depend on it. */
static int parse_bytewise(const char *s, size_t len, http_request *req)
{
	http_parser p;
	size_t i;
	int rc = HTTP_NEED_MORE;

	http_parser_init(&p);
	for (i = 1; i <= len && rc == HTTP_NEED_MORE; i++)
		rc = http_parse(&p, (const uint8_t *)s, i, req);
	return rc;
}

START_TEST(test_table)
{
	const char *s = table[_i].req;
	http_request r1, r2;
	int a = parse_whole(s, strlen(s), &r1);
	int b = parse_bytewise(s, strlen(s), &r2);

	ck_assert_msg(a == table[_i].status, "request %d: got %d, want %d",
		      _i, a, table[_i].status);
	ck_assert_msg(b == a, "request %d: bytewise %d, whole %d", _i, b, a);
	if (a == HTTP_DONE) {
		ck_assert_uint_eq(r1.head_len, strlen(s));
		ck_assert_uint_eq(r2.head_len, strlen(s));
		ck_assert_int_eq(r1.method, r2.method);
		ck_assert_int_eq(r1.kind, r2.kind);
	}
}
END_TEST

START_TEST(test_fields)
{
	static const char s[] =
		"PUT " BLK " HTTP/1.1\r\nhOsT: a\r\nContent-Length: 1024\r\n"
		"Connection: foo, Close\r\nExpect: 100-Continue\r\n"
		"Authorization: Bearer  tok\r\nRange:  bytes=1-2 \r\n\r\nBODY";
	http_request r;
	uint8_t zero[32] = { 0 };

	ck_assert_int_eq(parse_whole(s, sizeof s - 1, &r), HTTP_DONE);
	ck_assert_int_eq(r.method, HTTP_PUT);
	ck_assert_int_eq(r.kind, TARGET_BLOCK);
	ck_assert_mem_eq(r.ref, zero, 32);
	ck_assert_int_eq(r.has_content_length, 1);
	ck_assert_uint_eq(r.content_length, 1024);
	ck_assert_int_eq(r.keep_alive, 0);
	ck_assert_int_eq(r.expect_continue, 1);
	ck_assert_int_eq(r.has_auth, 1);
	ck_assert_str_eq(r.auth, "Bearer  tok");
	ck_assert_str_eq(r.range, "bytes=1-2");
	ck_assert_uint_eq(r.head_len, sizeof s - 1 - 4);
}
END_TEST

START_TEST(test_keep_alive)
{
	http_request r;
	const char *a = "GET " BLK " HTTP/1.1\r\nHost: a\r\n\r\n";
	const char *b = "GET " BLK " HTTP/1.0\r\n\r\n";
	const char *c = "GET " BLK " HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
	const char *d = "GET " BLK " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

	ck_assert_int_eq(parse_whole(a, strlen(a), &r), HTTP_DONE);
	ck_assert_int_eq(r.keep_alive, 1);
	ck_assert_int_eq(parse_whole(b, strlen(b), &r), HTTP_DONE);
	ck_assert_int_eq(r.keep_alive, 0);
	ck_assert_int_eq(parse_whole(c, strlen(c), &r), HTTP_DONE);
	ck_assert_int_eq(r.keep_alive, 1);
	ck_assert_int_eq(parse_whole(d, strlen(d), &r), HTTP_DONE);
	ck_assert_int_eq(r.keep_alive, 0);
}
END_TEST

/* Two pipelined requests: the first parse stops at the first head. */
START_TEST(test_pipelined)
{
	const char *one = "GET " BLK " HTTP/1.1\r\nHost: a\r\n\r\n";
	char both[512];
	http_request r;

	snprintf(both, sizeof both, "%s%s", one, one);
	ck_assert_int_eq(parse_whole(both, strlen(both), &r), HTTP_DONE);
	ck_assert_uint_eq(r.head_len, strlen(one));
}
END_TEST

static char *build_line(size_t target_len)
{
	/* "GET " + target + " HTTP/1.1" */
	char *s = malloc(target_len + 64);
	size_t n = 0;

	memcpy(s, "GET /", 5);
	n = 5;
	memset(s + n, 'a', target_len - 1);
	n += target_len - 1;
	strcpy(s + n, " HTTP/1.1\r\nHost: a\r\n\r\n");
	return s;
}

START_TEST(test_request_line_limit)
{
	http_request r;
	/* request line = 4 + target + 9 */
	size_t at = HTTP_MAX_REQUEST_LINE - 13;
	char *s = build_line(at);

	ck_assert_int_eq(parse_whole(s, strlen(s), &r), 404); /* fits */
	ck_assert_int_eq(parse_bytewise(s, strlen(s), &r), 404);
	free(s);
	s = build_line(at + 1);
	ck_assert_int_eq(parse_whole(s, strlen(s), &r), 414);
	ck_assert_int_eq(parse_bytewise(s, strlen(s), &r), 414);
	free(s);
	/* Without any CRLF: 414 as soon as the limit is passed. */
	s = malloc(HTTP_MAX_REQUEST_LINE + 1);
	memset(s, 'a', HTTP_MAX_REQUEST_LINE + 1);
	ck_assert_int_eq(parse_whole(s, HTTP_MAX_REQUEST_LINE, &r),
			 HTTP_NEED_MORE);
	ck_assert_int_eq(parse_whole(s, HTTP_MAX_REQUEST_LINE + 1, &r), 414);
	free(s);
}
END_TEST

/* A request whose header section is exactly `section` bytes long, in
 * lines of at most 1000 bytes. */
static char *build_headers(size_t section, size_t *len)
{
	const char *line = "GET " BLK " HTTP/1.1\r\nHost: a\r\n";
	char *s = malloc(section + 256);
	size_t n = strlen(line), left = section - 9; /* "Host: a\r\n" */

	memcpy(s, line, n);
	while (left > 0) {
		size_t l = left > 1000 ? 1000 : left;

		if (left - l > 0 && left - l < 5)
			l -= 5; /* keep the last line at least "X:v\r\n" */
		memcpy(s + n, "X:", 2);
		memset(s + n + 2, 'v', l - 4);
		memcpy(s + n + l - 2, "\r\n", 2);
		n += l;
		left -= l;
	}
	memcpy(s + n, "\r\n", 2);
	*len = n + 2;
	return s;
}

START_TEST(test_header_limits)
{
	http_request r;
	size_t len;
	char *s;

	s = build_headers(HTTP_MAX_HEADER_SECTION, &len);
	ck_assert_int_eq(parse_whole(s, len, &r), HTTP_DONE);
	ck_assert_int_eq(parse_bytewise(s, len, &r), HTTP_DONE);
	free(s);
	s = build_headers(HTTP_MAX_HEADER_SECTION + 1, &len);
	ck_assert_int_eq(parse_whole(s, len, &r), 431);
	ck_assert_int_eq(parse_bytewise(s, len, &r), 431);
	free(s);
	/* One huge line without its end: 431 without waiting for it. */
	s = malloc(HTTP_MAX_HEAD + 100);
	len = (size_t)sprintf(s, "GET " BLK " HTTP/1.1\r\nX:");
	memset(s + len, 'v', HTTP_MAX_HEADER_SECTION + 10);
	ck_assert_int_eq(parse_whole(s, len + HTTP_MAX_HEADER_SECTION + 10,
				     &r), 431);
	free(s);
}
END_TEST

START_TEST(test_header_count)
{
	char s[4096];
	size_t n;
	unsigned i;
	http_request r;

	n = (size_t)sprintf(s, "GET " BLK " HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(s + n, "X%u: v\r\n", i);
	strcpy(s + n, "\r\n");
	ck_assert_int_eq(parse_whole(s, n + 2, &r), HTTP_DONE);
	n += (size_t)sprintf(s + n, "Y: v\r\n");
	strcpy(s + n, "\r\n");
	ck_assert_int_eq(parse_whole(s, n + 2, &r), 431);
}
END_TEST

START_TEST(test_range)
{
	static const struct {
		const char *v;
		uint64_t len;
		int rc;
		uint64_t first, last;
	} t[] = {
		{ "bytes=0-99", 1000, RANGE_OK, 0, 99 },
		{ "bytes=0-9999", 1000, RANGE_OK, 0, 999 },
		{ "bytes=10-", 1000, RANGE_OK, 10, 999 },
		{ "bytes=-10", 1000, RANGE_OK, 990, 999 },
		{ "bytes=-5000", 1000, RANGE_OK, 0, 999 },
		{ "BYTES=5-5", 1000, RANGE_OK, 5, 5 },
		{ "bytes=1000-", 1000, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=-0", 1000, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=0-0", 0, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=5-4", 1000, RANGE_NONE, 0, 0 },
		{ "bytes=0-1,5-6", 1000, RANGE_NONE, 0, 0 },
		{ "items=0-1", 1000, RANGE_NONE, 0, 0 },
		{ "bytes=a-b", 1000, RANGE_NONE, 0, 0 },
		{ "bytes=", 1000, RANGE_NONE, 0, 0 },
		/* Positions at and beyond 2^64-1: a last position clamps to
		 * the content, a first position is past its end (416). */
		{ "bytes=0-18446744073709551615", 1000, RANGE_OK, 0, 999 },
		{ "bytes=0-18446744073709551616", 1000, RANGE_OK, 0, 999 },
		{ "bytes=5-99999999999999999999999", 1000, RANGE_OK, 5, 999 },
		{ "bytes=18446744073709551615-", 1000, RANGE_UNSATISFIABLE,
		  0, 0 },
		{ "bytes=18446744073709551615-18446744073709551615", 1000,
		  RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=99999999999999999999999-", 1000, RANGE_UNSATISFIABLE,
		  0, 0 },
		{ "bytes=-18446744073709551615", 1000, RANGE_OK, 0, 999 },
		{ "bytes=-99999999999999999999999", 1000, RANGE_OK, 0, 999 },
		{ "bytes=18446744073709551614-18446744073709551615",
		  UINT64_MAX, RANGE_OK, 18446744073709551614u,
		  18446744073709551614u },
	};
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint64_t f = 0, l = 0;
		int rc = http_range(t[i].v, strlen(t[i].v), t[i].len, &f, &l);

		ck_assert_msg(rc == t[i].rc, "%s: %d", t[i].v, rc);
		if (rc == RANGE_OK) {
			ck_assert_uint_eq(f, t[i].first);
			ck_assert_uint_eq(l, t[i].last);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("erisd-proto");
	TCase *tc = tcase_create("parser");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_table, 0,
			    (int)(sizeof table / sizeof table[0]));
	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_keep_alive);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_request_line_limit);
	tcase_add_test(tc, test_header_limits);
	tcase_add_test(tc, test_header_count);
	tcase_add_test(tc, test_range);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
