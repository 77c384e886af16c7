/* The holder's PIN (the card's signing password): from --pin-file, else
 * the environment variable MADOGUCHI_PIN, else the terminal without echo. */
#ifndef MDG_CLIENT_PIN_H
#define MDG_CLIENT_PIN_H

#include <stddef.h>

#define MDG_PIN_MAX 64
#define MDG_PIN_ENV "MADOGUCHI_PIN"

struct mdg_pin_source {
	const char *file;	/* --pin-file, or NULL */
};

/* Writes the PIN (NUL-terminated, no newline) into buf. *interactive is set
 * to 1 if it was typed at the terminal (so asking again makes sense).
 * Returns 0, or -1 with a message in err. The caller wipes buf. */
int mdg_pin_get(const struct mdg_pin_source *src, const char *prompt, char buf[MDG_PIN_MAX], int *interactive,
		char *err, size_t errlen);

#endif
