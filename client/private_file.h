/* The holder's files (--notice-out, --receipt-out): written whole, mode
 * 0600 also when the file was there before (O_TRUNC keeps an old mode). */
#ifndef MDG_CLIENT_PRIVATE_FILE_H
#define MDG_CLIENT_PRIVATE_FILE_H

#include <stddef.h>

#include "message.h"

/* buf[0..len) into path: 0, or -1 with err set to on_error (num: errno,
 * arg: the path). */
int mdg_write_private_file(const char *path, const void *buf, size_t len, enum mdg_msg_id on_error,
			   struct mdg_msg *err);

#endif
