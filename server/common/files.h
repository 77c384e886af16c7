/* Reading a whole file: certificates, keys, CRLs. One place checks the type,
 * the size ceiling and, for secrets, the mode. */
#ifndef MDG_FILES_H
#define MDG_FILES_H

#include <stddef.h>

/* Reads the regular file at path, 1..max bytes, into a malloc'd buffer
 * (caller frees) followed by a NUL, so PEM text is also a string. With
 * secret set, a file readable by group or others is refused. Returns 0, or
 * -1 with "PATH: why" in err. */
int mdg_read_file(const char *path, size_t max, int secret, unsigned char **buf, size_t *len, char *err, size_t errlen);

#endif
