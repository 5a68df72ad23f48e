/*
 * cbor_scan.c - the pull reader of CBOR items described in cbor_scan.h:
 * libcbor's streaming decoder (cbor_stream_decode) under a window that
 * slides over a file, or over a whole memory buffer, with every error
 * reported at its byte offset.
 *
 * libcbor decodes one head per call and reports it through callbacks;
 * each callback here only records what it saw into the item of the
 * current call. Before handing bytes to libcbor the scanner reads the head
 * of a definite-length string itself, to refuse an oversized length
 * before trying to buffer it (libcbor would ask for that many bytes) and
 * to step over block payloads that need not be read.
 */
#include "cbor_scan.h"

#include <cbor.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The longest item head: initial byte + 8-byte argument. */
#define HEAD_MAX 9u
/* Window of a file scanner; holds the longest string we buffer. */
#define WINDOW_BYTES (256u * 1024u)
#define MAX_STRING_FD (64u * 1024u)
#define DEFAULT_READAHEAD (64u * 1024u)
#define MAX_DEPTH 64u

int cbormod_cbor_fail(const cbormod_cbor_scanner *s, int code, uint64_t offset,
		    const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return eris_error_set(code, "%s: at byte %llu: %s", s->name,
			      (unsigned long long)offset, msg);
}

const char *cbormod_cbor_kind_name(cbormod_cbor_kind kind)
{
	switch (kind) {
	case ERIS__CBOR_UINT: return "an unsigned integer";
	case ERIS__CBOR_NEGINT: return "a negative integer";
	case ERIS__CBOR_BSTR: return "a byte string";
	case ERIS__CBOR_BSTR_INDEF: return "an indefinite-length byte string";
	case ERIS__CBOR_TSTR: return "a text string";
	case ERIS__CBOR_TSTR_INDEF: return "an indefinite-length text string";
	case ERIS__CBOR_ARRAY: return "an array";
	case ERIS__CBOR_ARRAY_INDEF: return "an indefinite-length array";
	case ERIS__CBOR_MAP: return "a map";
	case ERIS__CBOR_MAP_INDEF: return "an indefinite-length map";
	case ERIS__CBOR_TAG: return "a tag";
	case ERIS__CBOR_FLOAT: return "a floating-point number";
	case ERIS__CBOR_SIMPLE: return "a simple value";
	case ERIS__CBOR_BREAK: return "a break (0xFF)";
	}
	return "an unknown item";
}

void cbormod_cbor_scanner_mem(cbormod_cbor_scanner *s, const uint8_t *data,
			    size_t len, const char *name, uint64_t max_string)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->fd = -1;
	s->size = len;
	s->max_string = max_string;
	s->win = data;
	s->win_len = len;
}

int cbormod_cbor_scanner_fd(cbormod_cbor_scanner *s, int fd, uint64_t size,
			  const char *name, uint64_t max_string)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->fd = fd;
	s->size = size;
	s->max_string = max_string < MAX_STRING_FD ? max_string : MAX_STRING_FD;
	s->readahead = DEFAULT_READAHEAD;
	s->buf_cap = WINDOW_BYTES;
	s->buf = malloc(s->buf_cap);
	if (s->buf == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	s->win = s->buf;
	return ERIS_OK;
}

void cbormod_cbor_scanner_free(cbormod_cbor_scanner *s)
{
	free(s->buf);
	s->buf = NULL;
	s->win = NULL;
}

/* Make the window hold [pos, pos + want), or up to the end of the input. */
static int ensure(cbormod_cbor_scanner *s, uint64_t want)
{
	uint64_t left = s->size - s->pos, end, target;
	size_t keep = 0;

	if (s->fd < 0)
		return ERIS_OK;
	if (want > left)
		want = left;
	end = s->pos + want;
	if (s->pos >= s->win_off && end <= s->win_off + s->win_len)
		return ERIS_OK;
	if (s->pos >= s->win_off && s->pos < s->win_off + s->win_len) {
		keep = (size_t)(s->win_off + s->win_len - s->pos);
		memmove(s->buf, s->buf + (s->pos - s->win_off), keep);
	}
	s->win_off = s->pos;
	s->win_len = keep;
	target = want > s->readahead ? want : s->readahead;
	if (target > s->buf_cap)
		target = s->buf_cap;
	if (target > left)
		target = left;
	while (s->win_len < target) {
		ssize_t n = pread(s->fd, s->buf + s->win_len,
				  (size_t)target - s->win_len,
				  (off_t)(s->win_off + s->win_len));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cbormod_cbor_fail(s, ERIS_ERROR,
					       s->win_off + s->win_len,
					       "cannot read: %s",
					       strerror(errno));
		if (n == 0) {
			/* The file shrank since its size was taken: what
			 * is gone reads as a truncation. */
			s->size = s->win_off + s->win_len;
			break;
		}
		s->win_len += (size_t)n;
	}
	return ERIS_OK;
}

/* ---- libcbor callbacks: record the item --------------------------------- */

typedef struct {
	cbormod_cbor_item *it;
} scan_ctx;

#define SET(kind_, value_)                                                   \
	do {                                                                 \
		scan_ctx *c_ = ctx;                                          \
		c_->it->kind = (kind_);                                      \
		c_->it->value = (value_);                                    \
	} while (0)

static void on_uint8(void *ctx, uint8_t v) { SET(ERIS__CBOR_UINT, v); }
static void on_uint16(void *ctx, uint16_t v) { SET(ERIS__CBOR_UINT, v); }
static void on_uint32(void *ctx, uint32_t v) { SET(ERIS__CBOR_UINT, v); }
static void on_uint64(void *ctx, uint64_t v) { SET(ERIS__CBOR_UINT, v); }
static void on_negint8(void *ctx, uint8_t v) { SET(ERIS__CBOR_NEGINT, v); }
static void on_negint16(void *ctx, uint16_t v) { SET(ERIS__CBOR_NEGINT, v); }
static void on_negint32(void *ctx, uint32_t v) { SET(ERIS__CBOR_NEGINT, v); }
static void on_negint64(void *ctx, uint64_t v) { SET(ERIS__CBOR_NEGINT, v); }

static void on_bstr(void *ctx, cbor_data data, size_t len)
{
	SET(ERIS__CBOR_BSTR, len);
	((scan_ctx *)ctx)->it->data = data;
}

static void on_tstr(void *ctx, cbor_data data, size_t len)
{
	SET(ERIS__CBOR_TSTR, len);
	((scan_ctx *)ctx)->it->data = data;
}

static void on_bstr_indef(void *ctx) { SET(ERIS__CBOR_BSTR_INDEF, 0); }
static void on_tstr_indef(void *ctx) { SET(ERIS__CBOR_TSTR_INDEF, 0); }
static void on_array(void *ctx, size_t n) { SET(ERIS__CBOR_ARRAY, n); }
static void on_array_indef(void *ctx) { SET(ERIS__CBOR_ARRAY_INDEF, 0); }
static void on_map(void *ctx, size_t n) { SET(ERIS__CBOR_MAP, n); }
static void on_map_indef(void *ctx) { SET(ERIS__CBOR_MAP_INDEF, 0); }
static void on_tag(void *ctx, uint64_t v) { SET(ERIS__CBOR_TAG, v); }
static void on_float(void *ctx, float v) { (void)v; SET(ERIS__CBOR_FLOAT, 0); }
static void on_double(void *ctx, double v) { (void)v; SET(ERIS__CBOR_FLOAT, 0); }
static void on_simple(void *ctx) { SET(ERIS__CBOR_SIMPLE, 0); }
static void on_bool(void *ctx, bool v) { SET(ERIS__CBOR_SIMPLE, v); }
static void on_break(void *ctx) { SET(ERIS__CBOR_BREAK, 0); }

/* Every member is set: libcbor calls them without checking for NULL. */
static const struct cbor_callbacks callbacks = {
	.uint8 = on_uint8,
	.uint16 = on_uint16,
	.uint32 = on_uint32,
	.uint64 = on_uint64,
	.negint64 = on_negint64,
	.negint32 = on_negint32,
	.negint16 = on_negint16,
	.negint8 = on_negint8,
	.byte_string_start = on_bstr_indef,
	.byte_string = on_bstr,
	.string = on_tstr,
	.string_start = on_tstr_indef,
	.indef_array_start = on_array_indef,
	.array_start = on_array,
	.indef_map_start = on_map_indef,
	.map_start = on_map,
	.tag = on_tag,
	.float2 = on_float,
	.float4 = on_float,
	.float8 = on_double,
	.undefined = on_simple,
	.null = on_simple,
	.boolean = on_bool,
	.indef_break = on_break,
};

/* The head length and argument of a definite-length string head, or 0
 * if `avail` bytes do not hold the whole head. */
static size_t string_head(const uint8_t *p, size_t avail, uint64_t *arg)
{
	unsigned ai = p[0] & 31u;
	size_t n = ai < 24 ? 0 : (size_t)1 << (ai - 24);

	if (avail < 1 + n)
		return 0;
	if (ai < 24) {
		*arg = ai;
	} else {
		*arg = 0;
		for (size_t i = 1; i <= n; i++)
			*arg = *arg << 8 | p[i];
	}
	return 1 + n;
}

static int truncated(const cbormod_cbor_scanner *s, const char *what)
{
	return cbormod_cbor_fail(s, ERIS_ERROR, s->pos,
			       "truncated: %s starts here but the input ends "
			       "at byte %llu",
			       what, (unsigned long long)s->size);
}

static int next(cbormod_cbor_scanner *s, cbormod_cbor_item *it, int lazy,
		uint64_t skip_over)
{
	struct cbor_decoder_result res;
	const uint8_t *p;
	size_t avail;
	unsigned mt;
	scan_ctx ctx = { it };
	int rc;

	memset(it, 0, sizeof(*it));
	it->offset = s->pos;
	if (s->pos >= s->size)
		return cbormod_cbor_fail(s, ERIS_ERROR, s->pos,
				       "truncated: the input ends here, in "
				       "the middle of the data");
	if ((rc = ensure(s, HEAD_MAX)) < 0)
		return rc;
	p = s->win + (s->pos - s->win_off);
	avail = (size_t)(s->win_off + s->win_len - s->pos);
	mt = p[0] >> 5;
	if ((mt == 2 || mt == 3) && (p[0] & 31u) < 28) {
		const char *what = mt == 2 ? "byte string" : "text string";
		uint64_t len;
		size_t hl = string_head(p, avail, &len);

		if (hl == 0)
			return truncated(s, "an item head");
		if (len > s->max_string)
			return cbormod_cbor_fail(s, ERIS_ERROR, s->pos,
					       "a %s of %llu bytes is longer "
					       "than anything valid here (at "
					       "most %llu)",
					       what, (unsigned long long)len,
					       (unsigned long long)
						       s->max_string);
		if (len > s->size - s->pos - hl) {
			char buf[64];

			snprintf(buf, sizeof(buf), "a %s of %llu bytes", what,
				 (unsigned long long)len);
			return truncated(s, buf);
		}
		if (mt == 2 && lazy && len > skip_over) {
			it->kind = ERIS__CBOR_BSTR;
			it->value = len;
			it->data_offset = s->pos + hl;
			it->end = s->pos + hl + len;
			if (s->fd < 0)
				it->data = s->win + it->data_offset;
			s->pos = it->end;
			return ERIS_OK;
		}
		if ((rc = ensure(s, hl + len)) < 0)
			return rc;
		p = s->win + (s->pos - s->win_off);
		avail = (size_t)(s->win_off + s->win_len - s->pos);
	}
	res = cbor_stream_decode(p, avail, &callbacks, &ctx);
	if (res.status == CBOR_DECODER_NEDATA)
		return truncated(s, "an item");
	if (res.status != CBOR_DECODER_FINISHED)
		return cbormod_cbor_fail(s, ERIS_ERROR, s->pos,
				       "not well-formed (or unsupported) CBOR: "
				       "initial byte 0x%02X",
				       (unsigned)p[0]);
	it->end = s->pos + res.read;
	if (it->kind == ERIS__CBOR_BSTR || it->kind == ERIS__CBOR_TSTR)
		it->data_offset = it->end - it->value;
	s->pos = it->end;
	/* Every item takes at least one byte: a longer count is a lie. */
	if ((it->kind == ERIS__CBOR_ARRAY &&
	     it->value > s->size - s->pos) ||
	    (it->kind == ERIS__CBOR_MAP &&
	     it->value > (s->size - s->pos) / 2))
		return cbormod_cbor_fail(s, ERIS_ERROR, it->offset,
				       "truncated: %s of %llu %s cannot fit in "
				       "the %llu bytes left",
				       cbormod_cbor_kind_name(it->kind),
				       (unsigned long long)it->value,
				       it->kind == ERIS__CBOR_MAP ? "pairs"
								  : "items",
				       (unsigned long long)(s->size - s->pos));
	return ERIS_OK;
}

int cbormod_cbor_next(cbormod_cbor_scanner *s, cbormod_cbor_item *it)
{
	return next(s, it, 0, 0);
}

int cbormod_cbor_next_lazy(cbormod_cbor_scanner *s, cbormod_cbor_item *it,
			 uint64_t skip_over)
{
	return next(s, it, 1, skip_over);
}

/* ---- well-formedness of a whole item ---------------------------------- */

typedef struct {
	uint64_t left;  /* items still due (definite containers, tags) */
	uint64_t count; /* items (or chunks) seen so far */
	unsigned char indef, is_map, is_chunks;
	cbormod_cbor_kind chunk_kind;
} frame;

int cbormod_cbor_skip(cbormod_cbor_scanner *s, const cbormod_cbor_item *first,
		    unsigned max_depth, uint64_t *out_children)
{
	frame st[MAX_DEPTH];
	unsigned depth = 0;
	cbormod_cbor_item it = *first;
	uint64_t children = 0;
	int rc;

	if (max_depth > MAX_DEPTH)
		max_depth = MAX_DEPTH;
	for (;;) {
		frame f = { 0, 0, 0, 0, 0, ERIS__CBOR_BSTR };
		int complete = 0, push = 0;
		frame *top = depth ? &st[depth - 1] : NULL;

		if (top && top->is_chunks) {
			if (it.kind == ERIS__CBOR_BREAK) {
				complete = 1;
			} else if (it.kind != top->chunk_kind) {
				return cbormod_cbor_fail(
					s, ERIS_ERROR, it.offset,
					"a chunk of an indefinite-length "
					"string is %s, not a definite string "
					"of the same type",
					cbormod_cbor_kind_name(it.kind));
			} else {
				top->count++;
			}
		} else if (it.kind == ERIS__CBOR_BREAK) {
			if (top == NULL || !top->indef)
				return cbormod_cbor_fail(s, ERIS_ERROR,
						       it.offset,
						       "unexpected break "
						       "(0xFF)");
			if (top->is_map && top->count % 2)
				return cbormod_cbor_fail(
					s, ERIS_ERROR, it.offset,
					"an indefinite-length map ends after "
					"a key, without its value");
			complete = 1;
		} else {
			switch (it.kind) {
			case ERIS__CBOR_ARRAY:
			case ERIS__CBOR_MAP:
				f.is_map = it.kind == ERIS__CBOR_MAP;
				/* next() bounded the count by the input. */
				f.left = f.is_map ? it.value * 2 : it.value;
				push = f.left > 0;
				complete = !push;
				break;
			case ERIS__CBOR_ARRAY_INDEF:
			case ERIS__CBOR_MAP_INDEF:
				f.indef = 1;
				f.is_map = it.kind == ERIS__CBOR_MAP_INDEF;
				push = 1;
				break;
			case ERIS__CBOR_BSTR_INDEF:
			case ERIS__CBOR_TSTR_INDEF:
				f.is_chunks = 1;
				f.chunk_kind = it.kind == ERIS__CBOR_BSTR_INDEF
						       ? ERIS__CBOR_BSTR
						       : ERIS__CBOR_TSTR;
				push = 1;
				break;
			case ERIS__CBOR_TAG:
				f.left = 1;
				push = 1;
				break;
			default:
				complete = 1;
				break;
			}
		}
		if (push) {
			if (depth == max_depth)
				return cbormod_cbor_fail(s, ERIS_ERROR,
						       it.offset,
						       "nested more than %u "
						       "levels deep",
						       max_depth);
			st[depth++] = f;
		}
		/* A break closes the container on top; a finished item
		 * counts in its container, which may finish in turn. */
		if (complete && it.kind == ERIS__CBOR_BREAK) {
			depth--;
			if (depth == 0)
				children = st[0].is_map ? st[0].count / 2
							: st[0].count;
		}
		while (complete && depth > 0) {
			top = &st[depth - 1];
			top->count++;
			if (top->indef || --top->left > 0)
				break;
			depth--;
			if (depth == 0)
				children = st[0].is_map ? st[0].count / 2
							: st[0].count;
		}
		if (complete && depth == 0)
			break;
		if ((rc = cbormod_cbor_next(s, &it)) < 0)
			return rc;
	}
	if (out_children)
		*out_children = children;
	return ERIS_OK;
}
