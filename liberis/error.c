/*
 * error.c - error codes, their descriptions and the per-thread message.
 */
#include "internal.h"
#include "sys.h"

/* Per thread; one static buffer in the freestanding build (one thread). */
static ERIS_THREAD_LOCAL char last_message[512];
static eris_warning_fn warning_fn;
static void *warning_payload;

void eris_set_warning_handler(eris_warning_fn fn, void *payload)
{
	warning_fn = fn;
	warning_payload = payload;
}

void eris__warn(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (warning_fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warning_fn(msg, warning_payload);
}

int eris_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	return code;
}

const char *eris_error_last(void)
{
	return last_message;
}

void eris_error_clear(void)
{
	last_message[0] = '\0';
}

const char *eris_strerror(int code)
{
	switch (code) {
	case ERIS_OK: return "success";
	case ERIS_ERROR: return "error";
	case ERIS_ENOMEM: return "out of memory";
	case ERIS_EINVAL: return "invalid argument";
	case ERIS_ENOTFOUND: return "missing block";
	case ERIS_EBLOCKSIZE: return "wrong block size";
	case ERIS_EMISMATCH: return "reference mismatch";
	case ERIS_EKEY: return "key mismatch";
	case ERIS_ENODE: return "malformed internal node";
	case ERIS_EPADDING: return "bad padding";
	case ERIS_ELEVEL: return "unsupported level";
	case ERIS_EURN: return "bad URN or read capability";
	case ERIS_ESTORE: return "cannot open store";
	case ERIS_EFAILED: return "failed by an earlier error";
	case ERIS_ENOTSUP: return "operation not supported by this store";
	case ERIS_EREADONLY: return "store is read-only";
	case ERIS_EFSINDEX: return "malformed ERIS-FS index";
	case ERIS_EEXIST: return "a pin of that name exists";
	case ERIS_EAGAIN: return "the block is not at hand without waiting";
	default: return "unknown error";
	}
}

const char *eris_error_rule(int code)
{
	switch (code) {
	case ERIS_ENOTFOUND: return "R1";
	case ERIS_EBLOCKSIZE: return "R2";
	case ERIS_EMISMATCH: return "R3";
	case ERIS_EKEY: return "R4";
	case ERIS_ENODE: return "R5";
	case ERIS_EPADDING: return "R6";
	default: return NULL;
	}
}
