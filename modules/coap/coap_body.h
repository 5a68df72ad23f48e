/*
 * coap_body.h - assembling the body of a CoAP GET response from its
 * Block2 pieces (RFC 7959 section 2.4), for the CoAP client store
 * (coap.c) and its fuzz target (fuzz/coap_client_fuzz.c).
 *
 * Why a module of its own: the server is not trusted, and what it may
 * make the client do (how much it may make it buffer, how many more
 * requests it may make it send) is decided here, in plain C without
 * libcoap, so that the rules can be fuzzed with sequences of responses.
 *
 * The rules. The body goes into the caller's buffer, at most cap bytes
 * (the block size asked for, never more than 32768): nothing is ever
 * allocated. Each 2.05 response is fed in with its Block2 option (if
 * any), its Size2 option (if any) and its payload:
 *
 *   - no Block2: the payload is the whole body; allowed only as the
 *     first response.
 *   - Block2 NUM/M/SZX: SZX 0..6 (16..1024 bytes; 7, BERT, was not
 *     asked for); the piece must start where the body assembled so far
 *     ends (NUM * size == length: no gaps, no repeats, no going back);
 *     a piece with M=1 must be exactly one block of that size (RFC 7959:
 *     only the last may be shorter), so each round adds at least 16
 *     bytes and at most cap / 16 rounds are ever asked for.
 *   - a Size2 (announced total) larger than cap, or a body that would
 *     grow past cap, is "too large" (ERIS_EBLOCKSIZE) at once, before
 *     anything more is requested.
 *
 * Outcome of each response: DONE (the body is complete), MORE (ask for
 * the piece named by *next_block2, an encoded Block2 value), or an error:
 * ERIS_EBLOCKSIZE (too large) or ERIS_ERROR (a protocol violation), with
 * *why saying which rule was broken.
 */
#ifndef ERIS_STORES_COAP_BODY_H
#define ERIS_STORES_COAP_BODY_H

#include <stddef.h>
#include <stdint.h>

/* The largest body the client accepts: the larger block size. */
#define ERIS__COAP_BODY_MAX 32768

typedef struct {
	uint8_t *buf; /* receives the body */
	size_t cap;   /* at most this many bytes (<= ERIS__COAP_BODY_MAX) */
	size_t len;   /* bytes assembled so far */
	int started;  /* a response has been fed in */
} eris__coap_body;

enum { ERIS__COAP_BODY_DONE = 0, ERIS__COAP_BODY_MORE = 1 };

/* Start assembling into buf (cap bytes, clamped to ERIS__COAP_BODY_MAX). */
void eris__coap_body_init(eris__coap_body *b, uint8_t *buf, size_t cap);

/* Feed one 2.05 response. has_block2/block2: the Block2 option's value
 * (NUM << 4 | M << 3 | SZX); has_size2/size2: the Size2 option. Returns
 * ERIS__COAP_BODY_DONE, ERIS__COAP_BODY_MORE (with *next_block2 set) or
 * ERIS_EBLOCKSIZE (with *why naming what is too large: "the body" or
 * "the announced size (Size2)") or ERIS_ERROR (with *why saying which
 * rule was broken); *why is a static text. */
int eris__coap_body_add(eris__coap_body *b, int has_block2, uint32_t block2,
			int has_size2, uint64_t size2, const uint8_t *data,
			size_t len, uint32_t *next_block2, const char **why);

#endif
