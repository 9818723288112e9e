/* fileio: whole-file reads and writes for /proc, /sys and /etc. Writes go to a temporary
 * name first and are renamed into place, so a failure never leaves a half-written file. */
#ifndef MPSOCKS_FILEIO_H
#define MPSOCKS_FILEIO_H
#include <stddef.h>
#include <sys/types.h>

/* Reads at most size-1 bytes and NUL-terminates; returns the length or -1 (errno set). */
ssize_t read_file(const char *path, char *buf, size_t size);
/* Replaces path with data (mode for the new file); 0 or -1 (errno set). */
int write_file(const char *path, const char *data, size_t len, mode_t mode);
/* Writes data in place without truncating first: for /proc/sys, where rename cannot work. */
int write_proc(const char *path, const char *data);

#endif
