/* The rule both backends' crl_import apply to a scope already held
 * (store.h): a CRL replaces the held one only when its number is bigger;
 * the same number with the same bytes is "unchanged", with other bytes
 * refused, as is a smaller number. */
#ifndef MDG_CRL_SUPERSEDE_H
#define MDG_CRL_SUPERSEDE_H

#include <stddef.h>

#include "store.h"

enum mdg_crl_supersede {
	MDG_CRL_SUPERSEDES, /* newer: import it */
	MDG_CRL_SAME,       /* the held CRL again: unchanged (msg says so) */
	MDG_CRL_NOT_NEWER,  /* refused (msg says why) */
};

/* c against the held scope and the SHA-256 of its CRL; msg is set for
 * MDG_CRL_SAME and MDG_CRL_NOT_NEWER. */
enum mdg_crl_supersede mdg_crl_supersedes(const struct mdg_crl_import *c, const struct mdg_crl_scope *held,
					  const unsigned char held_sha[32], char *msg, size_t msglen);

#endif
