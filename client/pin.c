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

static int from_file(const char *path, char buf[MDG_PIN_MAX], struct mdg_msg *err)
{
	char line[MDG_PIN_MAX + 2];
	FILE *f = fopen(path, "r");
	int rc = -1;

	if (f == NULL) {
		mdg_msg_set(err, errno == ENOENT ? MDG_MSG_FILE_MISSING : MDG_MSG_FILE_UNREADABLE, errno, path, NULL);
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL) {
		mdg_msg_set(err, MDG_MSG_PIN_FILE_EMPTY, 0, path, NULL);
		goto out;
	}
	chomp(line);
	if (strlen(line) >= MDG_PIN_MAX) {
		mdg_msg_set(err, MDG_MSG_PIN_TOO_LONG, 0, path, NULL);
		goto out;
	}
	memcpy(buf, line, strlen(line) + 1);
	rc = 0;
out:
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	return rc;
}

static int from_tty(const char *prompt, char buf[MDG_PIN_MAX], struct mdg_msg *err)
{
	char line[MDG_PIN_MAX + 2];
	struct termios old, noecho;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int rc = -1, restored = 1;
	FILE *tty = NULL;

	if (fd < 0) {
		mdg_msg_set(err, MDG_MSG_NO_TTY, 0, MDG_PIN_ENV, NULL);
		return -1;
	}
	if ((tty = fdopen(fd, "r+")) == NULL) {
		close(fd);
		mdg_msg_set(err, MDG_MSG_NO_TTY, 0, MDG_PIN_ENV, NULL);
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
		mdg_msg_set(err, MDG_MSG_NO_PIN, 0, NULL, NULL);
		goto out;
	}
	chomp(line);
	if (strlen(line) >= MDG_PIN_MAX) {
		mdg_msg_set(err, MDG_MSG_PIN_TOO_LONG, 0, "/dev/tty", NULL);
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
		struct mdg_msg *err)
{
	const char *env = getenv(MDG_PIN_ENV);

	*interactive = 0;
	buf[0] = '\0';
	if (src->file != NULL)
		return from_file(src->file, buf, err);
	if (env != NULL) {
		if (strlen(env) >= MDG_PIN_MAX) {
			mdg_msg_set(err, MDG_MSG_PIN_TOO_LONG, 0, MDG_PIN_ENV, NULL);
			return -1;
		}
		memcpy(buf, env, strlen(env) + 1);
		return 0;
	}
	*interactive = 1;
	return from_tty(prompt, buf, err);
}

int mdg_pin_form_ok(const char *pin, struct mdg_msg *err)
{
	size_t n = strlen(pin);
	int chars_ok = 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)pin[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
			chars_ok = 0;
	}
	if (n >= MDG_PIN_MIN_LEN && n <= MDG_PIN_MAX_LEN && chars_ok)
		return 1;
	mdg_msg_set(err, MDG_MSG_PIN_FORM, (long)n, NULL, chars_ok ? NULL : "chars");
	return 0;
}
