#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mdg_read_file(const char *path, size_t max, int secret, unsigned char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	unsigned char *p = NULL;
	size_t n = 0;
	int rc = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*buf = NULL;
	*len = 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (size_t)st.st_size > max) {
		snprintf(err, errlen, "%s: not a regular file of 1 to %zu bytes", path, max);
		goto out;
	}
	if (secret && (st.st_mode & 077)) {
		snprintf(err, errlen, "%s: readable by group or others (mode %03o): chmod 600 it", path,
			 (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, p + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s: read error", path);
			goto out;
		}
		n += (size_t)r;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	p = NULL;
	rc = 0;
out:
	free(p);
	close(fd);
	return rc;
}
