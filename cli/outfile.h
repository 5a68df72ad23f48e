/*
 * outfile.h - writing a file the user named (`eris get/export/link -o`,
 * erispatch's patched files, manifests and packs) without harming what
 * the name already stands for.
 *
 * outfile_open() looks at PATH and picks one of two ways to write it:
 *
 *   atomic    PATH does not exist, or is a regular file: the content goes
 *             to a temporary file ".NAME.XXXXXX" in the same directory,
 *             which outfile_commit() syncs and renames to PATH (then it
 *             syncs the directory). Until then PATH is untouched, and
 *             outfile_abort() removes the temporary file. A new file gets
 *             the mode the caller asks for, or 0666 minus the umask. A
 *             replaced file keeps its mode and, where the process may
 *             give it (as root, say), its owner and group; a set-user-ID
 *             or set-group-ID bit is dropped when that owner or group
 *             cannot be kept. Its extended attributes - user.*, file
 *             capabilities (security.capability), security labels,
 *             trusted.* where visible, POSIX ACLs - are copied to the
 *             temporary file after its owner is set (chown clears
 *             capabilities); if one cannot be copied (an unprivileged
 *             process cannot set a capability, say), the commit fails
 *             and PATH is left as it was, rather than replaced without
 *             it. The rename breaks hard links: other names of the old
 *             file keep the old content (`old.st_nlink` tells the caller
 *             how many there are).
 *
 *   in place  PATH is a character or block device, a FIFO, or anything
 *             else that, following symbolic links, is neither a regular
 *             file nor a directory (/proc/self/fd/N of a pipe, say): it is
 *             opened for writing, without creating or truncating, and
 *             written directly. Its type, mode and owner never change.
 *             What was written before a failure stays written. Opening a
 *             FIFO waits for a reader; /proc/self/fd/N is opened anew, so
 *             the permissions of what it names apply (another user's
 *             pipe may refuse).
 *
 * A symbolic link is followed to the end of its chain (at most 40 links;
 * a relative link is read against the directory holding it) and these
 * rules apply to the file found there: a regular file is replaced
 * atomically beside itself, so the link stays a link, and a dangling
 * link's target is created. A directory or a socket is an error.
 *
 * The path is examined once, when the output is opened; a file swapped
 * in under the same name after that is not noticed.
 *
 * Signal handlers: `temp_live` is set while the temporary file `temp`
 * exists, so a handler may unlink(temp) when it is (cli/output.c does on
 * SIGINT, SIGTERM and SIGHUP). Opening reads the umask by setting it
 * twice, so it is not meant for threads that change the umask meanwhile.
 */
#ifndef ERIS_CLI_OUTFILE_H
#define ERIS_CLI_OUTFILE_H

#include <signal.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* outfile_open's `mode` for a new file: 0666 minus the umask. */
#define OUTFILE_MODE_DEFAULT (-1)

/* Room for a message naming two paths. */
#define OUTFILE_ERROR_SIZE 8448

typedef struct outfile {
	int active;      /* opened and not yet committed or aborted */
	int fd;          /* write the content here; -1 when closed */
	char *target;    /* the file written: PATH or the end of its links */
	char *temp;      /* the temporary file; NULL when written in place */
	volatile sig_atomic_t temp_live; /* `temp` exists (see above) */
	int in_place;    /* writing the existing file itself */
	int replacing;   /* `temp` replaces the regular file `old` */
	struct stat old; /* the replaced (or in-place) file */
	mode_t new_mode; /* mode of a new file */
	/* The reason for the last failure, one line naming the path, e.g.
	 * "cannot write to 'x': is a directory". */
	char error[OUTFILE_ERROR_SIZE];
} outfile;

/*
 * Open `path` for writing as described above. `mode` is the mode of the
 * file if it is new (OUTFILE_MODE_DEFAULT: 0666 minus the umask).
 * Returns 0, or -1 with errno set and `f->error` filled in, after which
 * nothing is left to clean up.
 */
int outfile_open(outfile *f, const char *path, int mode);

/*
 * Write all of `buf` to the output (retrying on EINTR). Returns 0, or -1
 * with errno set and `f->error` filled in; the output stays open (call
 * outfile_abort).
 */
int outfile_write(outfile *f, const void *buf, size_t len);

/*
 * Finish the output: sync the temporary file, give it its mode (and
 * owner and extended attributes), rename it to its target and sync the directory; in place, just
 * close the file. Returns 0, or -1 with errno set and `f->error` filled
 * in, after the temporary file is removed. Either way `f` is released.
 */
int outfile_commit(outfile *f);

/*
 * Give the output up: close it and remove the temporary file, leaving
 * the target as it was. Releases `f`. Does nothing to an `f` already
 * released, whose opening failed, or that is all zeros (never opened).
 */
void outfile_abort(outfile *f);

#endif
