/*
 * eris/errors.h - error codes and the per-thread error message.
 *
 * Every function that can fail returns 0 (ERIS_OK) or a negative code. The
 * specific codes name the failures a caller can act on; the decoder's codes
 * map one to one onto the verification rules R1-R6 of the ERIS
 * specification. A one-line message with details (which block, which rule)
 * is kept per thread and read with eris_error_last().
 */
#ifndef ERIS_ERRORS_H
#define ERIS_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	ERIS_OK = 0,
	/** Generic failure (I/O error of a store, unexpected condition). */
	ERIS_ERROR = -1,
	/** Out of memory. */
	ERIS_ENOMEM = -2,
	/** Invalid argument passed by the caller (programming error). */
	ERIS_EINVAL = -3,
	/** R1: a block is not in the store. */
	ERIS_ENOTFOUND = -4,
	/** R2: a block's size differs from the capability's block size. */
	ERIS_EBLOCKSIZE = -5,
	/** R3: a block does not hash to its reference. */
	ERIS_EMISMATCH = -6,
	/** R4: the decrypted root node does not hash to the root key. */
	ERIS_EKEY = -7,
	/** R5: an internal node is malformed (pair after a null pair, shape). */
	ERIS_ENODE = -8,
	/** R6: the last leaf does not end in 0x80 followed by zeros. */
	ERIS_EPADDING = -9,
	/** The capability's level is beyond what 64-bit lengths can reach. */
	ERIS_ELEVEL = -10,
	/** A URN, binary or CBOR capability is malformed. */
	ERIS_EURN = -11,
	/** A store cannot be opened or its specification is malformed. */
	ERIS_ESTORE = -12,
	/** The object is in a failed state from an earlier error. */
	ERIS_EFAILED = -13,
	/** The store does not support this operation (e.g. listing). */
	ERIS_ENOTSUP = -14,
	/** The store is read-only (e.g. a CBOR bundle). */
	ERIS_EREADONLY = -15,
	/** An ERIS-FS index is malformed (eris/fs.h; the message says how). */
	ERIS_EFSINDEX = -16,
	/** A pin of that name exists already (eris_store_pin_add()). */
	ERIS_EEXIST = -17,
	/** The block cannot be had without waiting for a disk or a network
	 *  (eris_store_try_get_many()); eris_store_get() would wait. */
	ERIS_EAGAIN = -18
} eris_error_code;

/**
 * The message of the last error raised on this thread, or "" if none.
 * The string is owned by the library and valid until the next call into it
 * on this thread.
 */
ERIS_EXTERN const char *eris_error_last(void);

/** Forget the last error of this thread. */
ERIS_EXTERN void eris_error_clear(void);

/** A static, human-readable description of an error code. */
ERIS_EXTERN const char *eris_strerror(int code);

/**
 * The decoding rule ("R1".."R6") an error code stands for, or NULL when the
 * code is not a verification failure.
 */
ERIS_EXTERN const char *eris_error_rule(int code);

/**
 * A warning: something the library skipped without failing, such as an
 * entry of a directory store that is neither a plain directory nor a
 * regular file. `message` is one line without a newline, valid during
 * the call. Called on the thread that met the condition.
 */
typedef void (*eris_warning_fn)(const char *message, void *payload);

/**
 * Set the process-wide warning handler (NULL: warnings are dropped, the
 * default). Set it before other threads use the library.
 */
ERIS_EXTERN void eris_set_warning_handler(eris_warning_fn fn, void *payload);

#ifdef __cplusplus
}
#endif
#endif
