/*
 * linkfile.c - ERIS link files (eris/link.h, ERIS digest §11): encoding
 * and a strict, bounded parser.
 *
 * The layout follows the Nim writer (erislink.nim) and the shared-mime-
 * info magic: 55799([276(cap), size, mime, attrs]). Link files are small
 * and passed around as files, so the parser works on a memory buffer
 * (the same scanner as the bundle reader, cbor_scan.c) and checks every
 * field: the structure first, for precise messages, then that the file
 * starts with the exact magic, which rules out non-minimal encodings of
 * the first items (file(1) and shared-mime-info recognise link files by
 * it). The attributes map is checked to be well formed, nested at most
 * ERIS_LINK_ATTRS_MAX_DEPTH deep, and is otherwise kept as raw bytes.
 */
#include "bundle_internal.h"
#include "cbor_scan.h"

#include <cbor.h>
#include <stdio.h>
#include <string.h>

static const uint8_t link_magic[ERIS_LINK_MAGIC_BYTES] = {
	0xD9, 0xD9, 0xF7, /* tag 55799 */
	0x84,             /* array of 4 */
	0xD9, 0x01, 0x14, /* tag 276 */
	0x58, 0x42        /* byte string of 66 bytes */
};


/* 1 to ERIS_LINK_MIME_MAX printable ASCII characters. */
static int check_mime(const char *mime, size_t len)
{
	if (len == 0)
		return eris_error_set(ERIS_EINVAL, "empty MIME type");
	if (len > ERIS_LINK_MIME_MAX)
		return eris_error_set(ERIS_EINVAL,
				      "MIME type of %zu bytes: at most %u are "
				      "allowed",
				      len, ERIS_LINK_MIME_MAX);
	for (size_t i = 0; i < len; i++)
		if (mime[i] < 0x20 || mime[i] > 0x7e)
			return eris_error_set(ERIS_EINVAL,
					      "MIME type has a byte 0x%02X at "
					      "position %zu: only printable "
					      "ASCII is allowed",
					      (unsigned)(unsigned char)mime[i],
					      i);
	return ERIS_OK;
}

/* The scanner is just past the head `it` of the attributes: check the map
 * and count its pairs. */
static int skip_attrs(cbormod_cbor_scanner *s, const cbormod_cbor_item *it,
		      uint64_t *count)
{
	if (it->kind != ERIS__CBOR_MAP && it->kind != ERIS__CBOR_MAP_INDEF)
		return cbormod_cbor_fail(s, ERIS_ERROR, it->offset,
				       "the attributes are %s, not a map",
				       cbormod_cbor_kind_name(it->kind));
	return cbormod_cbor_skip(s, it, ERIS_LINK_ATTRS_MAX_DEPTH, count);
}

int cbormod_link_encode(uint8_t *out, size_t size, size_t *out_len,
		     const eris_link *link)
{
	static const uint8_t empty_map[1] = { 0xA0 };
	uint8_t cap[ERIS_READ_CAP_BYTES], size_head[9], mime_head[9];
	const char *mime;
	const uint8_t *attrs;
	size_t mime_len, attrs_len, n_size, n_mime, need;
	int rc;

	if (out_len == NULL || link == NULL)
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out_len = 0;
	if (eris_read_cap_to_bytes(cap, &link->cap) < 0)
		return eris_error_set(ERIS_EINVAL, "invalid read capability");
	mime = link->mime ? link->mime : ERIS_LINK_DEFAULT_MIME;
	mime_len = strlen(mime);
	if ((rc = check_mime(mime, mime_len)) < 0)
		return rc;
	if (link->attrs == NULL && link->attrs_len == 0) {
		attrs = empty_map;
		attrs_len = sizeof(empty_map);
	} else {
		cbormod_cbor_scanner s;
		cbormod_cbor_item it;

		if (link->attrs == NULL)
			return eris_error_set(ERIS_EINVAL, "invalid argument");
		attrs = link->attrs;
		attrs_len = link->attrs_len;
		cbormod_cbor_scanner_mem(&s, attrs, attrs_len, "attributes",
				       UINT64_MAX);
		rc = cbormod_cbor_next(&s, &it);
		if (rc == ERIS_OK)
			rc = skip_attrs(&s, &it, NULL);
		if (rc == ERIS_OK && s.pos != attrs_len)
			rc = cbormod_cbor_fail(&s, ERIS_ERROR, s.pos,
					     "trailing bytes after the map");
		if (rc < 0) {
			char why[400];

			snprintf(why, sizeof(why), "%s", eris_error_last());
			return eris_error_set(ERIS_EINVAL, "%s", why);
		}
	}
	n_size = cbor_encode_uint(link->size, size_head, sizeof(size_head));
	n_mime = cbor_encode_string_start(mime_len, mime_head,
					  sizeof(mime_head));
	need = sizeof(link_magic) + sizeof(cap) + n_size + n_mime + mime_len +
	       attrs_len;
	*out_len = need;
	if (out == NULL)
		return ERIS_OK;
	if (size < need)
		return eris_error_set(ERIS_EINVAL,
				      "a link file of %zu bytes does not fit "
				      "in %zu",
				      need, size);
	memcpy(out, link_magic, sizeof(link_magic));
	out += sizeof(link_magic);
	memcpy(out, cap, sizeof(cap));
	out += sizeof(cap);
	memcpy(out, size_head, n_size);
	out += n_size;
	memcpy(out, mime_head, n_mime);
	out += n_mime;
	memcpy(out, mime, mime_len);
	out += mime_len;
	memcpy(out, attrs, attrs_len);
	return ERIS_OK;
}

/* The parse proper; fills the fields and the ranges of mime and attrs. */
static int parse(cbormod_cbor_scanner *s, eris_link *link,
		 const uint8_t **mime, size_t *mime_len, uint64_t *attrs_off)
{
	cbormod_cbor_item it;
	uint64_t count;
	int rc;

	if ((rc = cbormod_cbor_next(s, &it)) < 0)
		return rc;
	if (it.kind != ERIS__CBOR_TAG ||
	    it.value != ERIS_CBOR_SELF_DESCRIBED_TAG)
		return cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				       "not an ERIS link file: it does not "
				       "start with tag 55799 (magic D9 D9 F7 "
				       "84 D9 01 14 58 42)");
	if ((rc = cbormod_cbor_next(s, &it)) < 0)
		return rc;
	if (it.kind == ERIS__CBOR_ARRAY && it.value != 4)
		return cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				       "a link file is an array of 4 elements, "
				       "not %llu",
				       (unsigned long long)it.value);
	if (it.kind != ERIS__CBOR_ARRAY)
		return cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				       "a link file is an array of 4 elements, "
				       "not %s",
				       cbormod_cbor_kind_name(it.kind));
	if ((rc = cbormod_cbor_next(s, &it)) < 0)
		return rc;
	if (it.kind != ERIS__CBOR_TAG || it.value != 276)
		return cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				       "the first element is %s, not a read "
				       "capability (tag 276)",
				       cbormod_cbor_kind_name(it.kind));
	if ((rc = cbormod_cbor_next(s, &it)) < 0)
		return rc;
	if (it.kind != ERIS__CBOR_BSTR || it.value != ERIS_READ_CAP_BYTES)
		return cbormod_cbor_fail(s, ERIS_EURN, it.offset,
				       "the read capability must be a byte "
				       "string of 66 bytes");
	if (eris_read_cap_from_bytes(&link->cap, it.data) < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", eris_error_last());
		return cbormod_cbor_fail(s, ERIS_EURN, it.offset, "%s", why);
	}
	if ((rc = cbormod_cbor_next(s, &it)) < 0)
		return rc;
	if (it.kind != ERIS__CBOR_UINT)
		return cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				       "the size is %s, not an unsigned "
				       "integer",
				       cbormod_cbor_kind_name(it.kind));
	link->size = it.value;
	if ((rc = cbormod_cbor_next(s, &it)) < 0)
		return rc;
	if (it.kind != ERIS__CBOR_TSTR)
		return cbormod_cbor_fail(s, ERIS_ERROR, it.offset,
				       "the MIME type is %s, not a "
				       "definite-length text string",
				       cbormod_cbor_kind_name(it.kind));
	if ((rc = check_mime((const char *)it.data, (size_t)it.value)) < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", eris_error_last());
		return cbormod_cbor_fail(s, ERIS_ERROR, it.offset, "%s", why);
	}
	*mime = it.data;
	*mime_len = (size_t)it.value;
	if ((rc = cbormod_cbor_next(s, &it)) < 0)
		return rc;
	*attrs_off = it.offset;
	if ((rc = skip_attrs(s, &it, &count)) < 0)
		return rc;
	link->attrs_count = (size_t)count;
	if (s->pos != s->size)
		return cbormod_cbor_fail(s, ERIS_ERROR, s->pos,
				       "%llu bytes of trailing data after the "
				       "link",
				       (unsigned long long)(s->size - s->pos));
	return ERIS_OK;
}

int cbormod_link_decode(eris_link **out, const uint8_t *in, size_t len)
{
	cbormod_cbor_scanner s;
	eris_link tmp, *link;
	const uint8_t *mime = NULL;
	size_t mime_len = 0, attrs_len;
	uint64_t attrs_off = 0;
	char *p;
	int rc;

	if (out == NULL || (in == NULL && len > 0))
		return eris_error_set(ERIS_EINVAL, "invalid argument");
	*out = NULL;
	memset(&tmp, 0, sizeof(tmp));
	cbormod_cbor_scanner_mem(&s, in, len, "link file", UINT64_MAX);
	rc = parse(&s, &tmp, &mime, &mime_len, &attrs_off);
	if (rc < 0)
		return rc;
	if (!eris_link_has_magic(in, len))
		return eris_error_set(ERIS_ERROR,
				      "link file: not in the canonical "
				      "encoding: it does not start with the "
				      "magic D9 D9 F7 84 D9 01 14 58 42");
	attrs_len = len - (size_t)attrs_off;
	link = malloc(sizeof(*link) + mime_len + 1 + attrs_len);
	if (link == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	*link = tmp;
	p = (char *)(link + 1);
	memcpy(p, mime, mime_len);
	p[mime_len] = '\0';
	link->mime = p;
	p += mime_len + 1;
	memcpy(p, in + attrs_off, attrs_len);
	link->attrs = (const uint8_t *)p;
	link->attrs_len = attrs_len;
	*out = link;
	return ERIS_OK;
}

void cbormod_link_free(eris_link *link)
{
	free(link);
}
