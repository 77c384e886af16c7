#include "pin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int from_file(const char *path, char buf[MDG_PIN_MAX], char *err, size_t errlen)
{
	char line[MDG_PIN_MAX + 2];
	FILE *f = fopen(path, "r");
	int rc = -1;

	if (f == NULL) {
		snprintf(err, errlen, "--pin-file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL) {
		snprintf(err, errlen, "--pin-file %s: empty", path);
		goto out;
	}
	chomp(line);
	if (strlen(line) >= MDG_PIN_MAX) {
		snprintf(err, errlen, "--pin-file %s: the PIN is too long", path);
		goto out;
	}
	memcpy(buf, line, strlen(line) + 1);
	rc = 0;
out:
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	return rc;
}

static int from_tty(const char *prompt, char buf[MDG_PIN_MAX], char *err, size_t errlen)
{
	char line[MDG_PIN_MAX + 2];
	struct termios old, noecho;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int rc = -1, restored = 1;
	FILE *tty = NULL;

	if (fd < 0) {
		snprintf(err, errlen, "no terminal to ask for the PIN: use --pin-file or %s", MDG_PIN_ENV);
		return -1;
	}
	if ((tty = fdopen(fd, "r+")) == NULL) {
		close(fd);
		snprintf(err, errlen, "cannot open the terminal");
		return -1;
	}
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		noecho.c_lflag |= ECHONL;
		if (tcsetattr(fd, TCSAFLUSH, &noecho) == 0)
			restored = 0;
	}
	fputs(prompt, tty);
	fflush(tty);
	if (fgets(line, sizeof(line), tty) == NULL) {
		snprintf(err, errlen, "no PIN entered");
		goto out;
	}
	chomp(line);
	if (strlen(line) >= MDG_PIN_MAX) {
		snprintf(err, errlen, "the PIN is too long");
		goto out;
	}
	memcpy(buf, line, strlen(line) + 1);
	rc = 0;
out:
	if (!restored)
		tcsetattr(fd, TCSAFLUSH, &old);
	OPENSSL_cleanse(line, sizeof(line));
	fclose(tty);
	return rc;
}

int mdg_pin_get(const struct mdg_pin_source *src, const char *prompt, char buf[MDG_PIN_MAX], int *interactive,
		char *err, size_t errlen)
{
	const char *env = getenv(MDG_PIN_ENV);

	*interactive = 0;
	buf[0] = '\0';
	if (src->file != NULL)
		return from_file(src->file, buf, err, errlen);
	if (env != NULL) {
		if (strlen(env) >= MDG_PIN_MAX) {
			snprintf(err, errlen, "%s: the PIN is too long", MDG_PIN_ENV);
			return -1;
		}
		memcpy(buf, env, strlen(env) + 1);
		return 0;
	}
	*interactive = 1;
	return from_tty(prompt, buf, err, errlen);
}
