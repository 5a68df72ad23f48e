/*
 * s3_list.c - the ListObjectsV2 response parser (see s3_list.h).
 *
 * Why expat: the listing is the one XML the s3 store reads, and it comes
 * from a server we do not trust; a maintained parser handles encodings,
 * character references and CDATA, and this file only keeps track of the
 * handful of elements the store needs:
 *
 *   <ListBucketResult>
 *     <IsTruncated>true|false</IsTruncated>
 *     <NextContinuationToken>...</NextContinuationToken>
 *     <Contents><Key>...</Key><Size>123</Size>...</Contents>...
 *   </ListBucketResult>
 *
 * Element names are matched without namespace processing, so the usual
 * xmlns="http://s3.amazonaws.com/doc/2006-03-01/" changes nothing.
 */
#include "s3_list.h"

#include <eris/errors.h>
#include <eris/sys/store_backend.h>

#include <expat.h>
#include <stdlib.h>
#include <string.h>

typedef enum { F_NONE, F_KEY, F_SIZE, F_TRUNC, F_TOKEN, F_CODE } field;

struct s3_list {
	XML_Parser parser;
	s3_list_object_fn on_object;
	void *payload;
	int rc;          /* sticky: the first failure or callback value */
	int depth;
	int root;        /* 0 none yet, 1 ListBucketResult, 2 Error */
	int in_contents; /* inside <Contents> (depth 2) */
	field field;     /* the text being collected */
	size_t text_len;
	char text[S3_LIST_MAX_TOKEN + 1];
	int have_key, have_size;
	char key[S3_LIST_MAX_KEY + 1];
	uint64_t size;
	int truncated;
	char token[S3_LIST_MAX_TOKEN + 1];
	char code[65]; /* an <Error>'s <Code> */
};

static void fail(s3_list *l, int rc)
{
	if (l->rc == 0)
		l->rc = rc;
	XML_StopParser(l->parser, XML_FALSE);
}

static size_t field_max(field f)
{
	switch (f) {
	case F_KEY:
		return S3_LIST_MAX_KEY;
	case F_SIZE:
		return 20; /* 2^64 - 1 has 20 digits */
	case F_TRUNC:
		return 5;
	case F_TOKEN:
		return S3_LIST_MAX_TOKEN;
	case F_CODE:
		return sizeof(((s3_list *)0)->code) - 1;
	default:
		return 0;
	}
}

static const char *field_name(field f)
{
	return f == F_KEY     ? "Key"
	       : f == F_SIZE  ? "Size"
	       : f == F_TOKEN ? "NextContinuationToken"
	       : f == F_CODE  ? "Code"
			      : "IsTruncated";
}

static void on_start(void *p, const XML_Char *name, const XML_Char **attrs)
{
	s3_list *l = p;

	(void)attrs;
	l->depth++;
	l->field = F_NONE; /* an element inside a field ends its text */
	l->text_len = 0;
	if (l->depth > S3_LIST_MAX_DEPTH) {
		fail(l, eris_error_set(ERIS_ESTORE,
				       "s3 listing: elements nested deeper "
				       "than %d",
				       S3_LIST_MAX_DEPTH));
		return;
	}
	if (l->depth == 1) {
		if (strcmp(name, "ListBucketResult") == 0)
			l->root = 1;
		else if (strcmp(name, "Error") == 0)
			l->root = 2;
		else
			fail(l, eris_error_set(ERIS_ESTORE,
					       "s3 listing: not a ListObjectsV2 "
					       "response (root element <%.64s>)",
					       name));
	} else if (l->depth == 2 && l->root == 1) {
		if (strcmp(name, "Contents") == 0) {
			l->in_contents = 1;
			l->have_key = l->have_size = 0;
		} else if (strcmp(name, "IsTruncated") == 0) {
			l->field = F_TRUNC;
		} else if (strcmp(name, "NextContinuationToken") == 0) {
			l->field = F_TOKEN;
		}
	} else if (l->depth == 2 && l->root == 2) {
		if (strcmp(name, "Code") == 0)
			l->field = F_CODE;
	} else if (l->depth == 3 && l->in_contents) {
		if (strcmp(name, "Key") == 0)
			l->field = F_KEY;
		else if (strcmp(name, "Size") == 0)
			l->field = F_SIZE;
	}
}

static int parse_size(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* The text of field l->field is complete. */
static void end_field(s3_list *l)
{
	l->text[l->text_len] = '\0';
	switch (l->field) {
	case F_KEY:
		memcpy(l->key, l->text, l->text_len + 1);
		l->have_key = 1;
		break;
	case F_SIZE:
		if (parse_size(l->text, l->text_len, &l->size) < 0) {
			fail(l, eris_error_set(ERIS_ESTORE,
					       "s3 listing: <Size> is not a "
					       "number"));
			return;
		}
		l->have_size = 1;
		break;
	case F_TRUNC:
		l->truncated = strcmp(l->text, "true") == 0;
		break;
	case F_TOKEN:
		memcpy(l->token, l->text, l->text_len + 1);
		break;
	case F_CODE:
		/* It goes into messages: letters and digits only. */
		for (size_t i = 0, j = 0; i <= l->text_len; i++) {
			char c = l->text[i];

			if (c == '\0' || (c >= 'A' && c <= 'Z') ||
			    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
				l->code[j++] = c;
		}
		break;
	default:
		break;
	}
}

static void on_end(void *p, const XML_Char *name)
{
	s3_list *l = p;

	if (l->field != F_NONE)
		end_field(l);
	l->field = F_NONE;
	l->text_len = 0;
	if (l->depth == 2 && l->in_contents &&
	    strcmp(name, "Contents") == 0) {
		l->in_contents = 0;
		if (l->rc == 0 && l->have_key && l->have_size &&
		    l->on_object != NULL) {
			int rc = l->on_object(l->key, l->size, l->payload);

			if (rc != 0)
				fail(l, rc);
		}
	}
	l->depth--;
}

static void on_text(void *p, const XML_Char *s, int len)
{
	s3_list *l = p;
	size_t n = (size_t)len;

	if (l->field == F_NONE || len <= 0)
		return;
	if (n > field_max(l->field) - l->text_len) {
		fail(l, eris_error_set(ERIS_ESTORE,
				       "s3 listing: <%s> longer than %zu bytes",
				       field_name(l->field),
				       field_max(l->field)));
		return;
	}
	memcpy(l->text + l->text_len, s, n);
	l->text_len += n;
}

static void on_doctype(void *p, const XML_Char *name, const XML_Char *sysid,
		       const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	fail(p, eris_error_set(ERIS_ESTORE,
			       "s3 listing: a DOCTYPE is not allowed"));
}

int eris__s3_list_new(s3_list **out, s3_list_object_fn on_object,
		      void *payload)
{
	s3_list *l = calloc(1, sizeof(*l));

	*out = NULL;
	if (l == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	l->parser = XML_ParserCreate(NULL);
	if (l->parser == NULL) {
		free(l);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	l->on_object = on_object;
	l->payload = payload;
	XML_SetUserData(l->parser, l);
	XML_SetElementHandler(l->parser, on_start, on_end);
	XML_SetCharacterDataHandler(l->parser, on_text);
	XML_SetStartDoctypeDeclHandler(l->parser, on_doctype);
	*out = l;
	return ERIS_OK;
}

int eris__s3_list_feed(s3_list *l, const char *data, size_t len, int final)
{
	if (l->rc != 0)
		return l->rc;
	while (len > 0 || final) {
		/* XML_Parse takes an int length. */
		int n = len > 1 << 20 ? 1 << 20 : (int)len;
		int last = final && (size_t)n == len;

		if (XML_Parse(l->parser, data, n, last) != XML_STATUS_OK) {
			enum XML_Error e = XML_GetErrorCode(l->parser);

			if (l->rc == 0)
				l->rc = e == XML_ERROR_NO_MEMORY
						? eris_error_set(ERIS_ENOMEM,
								 "out of memory")
						: eris_error_set(
							  ERIS_ESTORE,
							  "s3 listing: line "
							  "%lu: %s",
							  (unsigned long)
								  XML_GetCurrentLineNumber(
									  l->parser),
							  XML_ErrorString(e));
			return l->rc;
		}
		/* Before advancing: the final call may have no data (NULL). */
		if (last)
			break;
		data += n;
		len -= (size_t)n;
	}
	if (final && l->root == 2)
		l->rc = eris_error_set(ERIS_ESTORE,
				       "s3 listing: the server answered with "
				       "an error (%s)",
				       l->code[0] ? l->code : "no code");
	return l->rc;
}

int eris__s3_list_truncated(const s3_list *l)
{
	return l->truncated;
}

const char *eris__s3_list_next_token(const s3_list *l)
{
	return l->token;
}

const char *eris__s3_list_error_code(const s3_list *l)
{
	return l->code;
}

void eris__s3_list_free(s3_list *l)
{
	if (l == NULL)
		return;
	XML_ParserFree(l->parser);
	free(l);
}
