/* espconf: mpsocks parameters kept on the boot medium, so that a USB stick's configuration can
 * be edited on any computer without rebuilding the image. The hardware image's built-in
 * command line names the partition (`mpsocks.conf=PARTNAME`, the GPT partition name); init
 * waits (bounded) for it, mounts it read-only (vfat) and reads mpsocks/cmdline.txt, whose
 * mpsocks.* parameters then replace the built-in ones. Without mpsocks.conf (the VM), nothing
 * changes and nothing waits. */
#ifndef MPSOCKS_ESPCONF_H
#define MPSOCKS_ESPCONF_H
#include <stddef.h>

#define ESPCONF_PARAM "mpsocks.conf="
#define ESPCONF_FILE "mpsocks/cmdline.txt"
#define ESPCONF_WAIT_MS 10000 /* USB storage takes a second or two on real hardware */

/* Pure helpers (unit-tested). Words are separated by white space; a double quote keeps white
 * space inside a word, as the kernel's own parser does. */
/* Removes every `mpsocks.conf=VALUE` word from cmdline; the last VALUE goes to name (empty
 * when there is none or it does not fit). Returns 1 when a word was removed. */
int espconf_take(char *cmdline, char *name, size_t name_size);
/* Replaces the mpsocks.* words of cmdline (size bytes of room) with the words of file (a '#'
 * starts a comment to the end of its line; lines join with spaces). Returns 0, or -1 when the
 * result does not fit (cmdline unchanged). */
int espconf_merge(char *cmdline, size_t size, const char *file);

/* The I/O: takes mpsocks.conf= out of cmdline; if it was there, finds the partition, reads the
 * file and merges it. One console line says what happened. */
void espconf_apply(char *cmdline, size_t size);

#endif
