#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private_file.h"

int mdg_write_private_file(const char *path, const void *buf, size_t len, enum mdg_msg_id on_error, struct mdg_msg *err)
{
	const char *p = buf;
	size_t off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		mdg_msg_set(err, on_error, errno, path, NULL);
		return -1;
	}
	if (fchmod(fd, 0600) != 0) {
		mdg_msg_set(err, on_error, errno, path, NULL);
		close(fd);
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			mdg_msg_set(err, on_error, n < 0 ? errno : EIO, path, NULL);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0) {
		mdg_msg_set(err, on_error, errno, path, NULL);
		return -1;
	}
	return 0;
}
