/* The holder's PIN (the card's signing password): from --pin-file, else
 * the environment variable MADOGUCHI_PIN, else the terminal without echo. */
#ifndef MDG_CLIENT_PIN_H
#define MDG_CLIENT_PIN_H

#include <stddef.h>

#include "message.h"

#define MDG_PIN_MAX 64
#define MDG_PIN_ENV "MADOGUCHI_PIN"

struct mdg_pin_source {
	const char *file; /* --pin-file, or NULL */
};

/* The JPKI signing password: 6 to 16 characters, ASCII letters and digits
 * (the card holds upper-case letters and digits; five wrong tries lock it). */
#define MDG_PIN_MIN_LEN 6
#define MDG_PIN_MAX_LEN 16

/* Writes the PIN (NUL-terminated, no newline) into buf. *interactive is set
 * to 1 if it was typed at the terminal (so asking again makes sense).
 * Returns 0, or -1 with err set. The caller wipes buf. */
int mdg_pin_get(const struct mdg_pin_source *src, const char *prompt, char buf[MDG_PIN_MAX], int *interactive,
		struct mdg_msg *err);

/* 1 if pin can be a JPKI signing password; else 0 with err set (its length
 * only, never the PIN). Checked before the PIN goes to a card, so a PIN the
 * card cannot have never costs a try. */
int mdg_pin_form_ok(const char *pin, struct mdg_msg *err);

#endif
