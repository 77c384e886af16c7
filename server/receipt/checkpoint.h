/* Checkpoints of the acceptance log: C2SP tlog-checkpoint bodies signed as
 * C2SP signed notes with the Ed25519 log key (DESIGN.md "Receipts and the
 * log's Merkle tree").
 *
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n
 *   \n
 *   — <key name> <base64(key ID || Ed25519 signature)>\n
 *
 * Origin and key name are both the configured log_name. The key ID is the
 * first 4 bytes of SHA-256(name || "\n" || 0x01 || public key); the verifier
 * key (GET /v1/log/key) is "<name>+<key ID, 8 hex>+<base64(0x01 ||
 * public key)>". */
#ifndef MDG_CHECKPOINT_H
#define MDG_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define MDG_NOTE_NAME_MAX 255      /* bytes of a key name / origin */
#define MDG_NOTE_MAX (1024 * 1024) /* bytes of a signed note read */
#define MDG_NOTE_MAX_SIGS 100      /* signature lines read */
#define MDG_NOTE_VKEY_LEN (MDG_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)

/* The log key: owned by the struct (mdg_logkey_free). */
struct mdg_logkey {
	EVP_PKEY *key;                    /* Ed25519 private key */
	char name[MDG_NOTE_NAME_MAX + 1]; /* log_name */
	unsigned char pub[32];
	unsigned char keyid[4];
	char vkey[MDG_NOTE_VKEY_LEN]; /* the verifier key */
};

/* One trusted verifier key, as parsed. */
struct mdg_note_verifier {
	char name[MDG_NOTE_NAME_MAX + 1];
	unsigned char keyid[4];
	unsigned char pub[32];
};

/* A checkpoint body as parsed. */
struct mdg_checkpoint {
	char origin[MDG_NOTE_NAME_MAX + 1];
	uint64_t size;
	unsigned char root[32];
};

/* 1 if name may name a key (and be an origin): 1..MDG_NOTE_NAME_MAX bytes
 * of valid UTF-8 with no Unicode white space, no control character and no
 * '+'; else 0. */
int mdg_note_name_ok(const char *name);

/* The key ID of an Ed25519 key of that name. */
void mdg_note_keyid(const char *name, const unsigned char pub[32], unsigned char id[4]);

/* The verifier key string; 0, or -1 if the name is not a key name. */
int mdg_note_vkey(const char *name, const unsigned char pub[32], char out[MDG_NOTE_VKEY_LEN]);

/* The log key from pkey (an Ed25519 private key; the struct takes its own
 * reference) under name. 0, or -1 with err (struct left zeroed). */
int mdg_logkey_init(struct mdg_logkey *k, EVP_PKEY *pkey, const char *name, char *err, size_t errlen);

/* The log key from a PEM file that only its owner may read ([receipts]
 * log_key). 0, or -1 with "PATH: why" in err. */
int mdg_logkey_load(struct mdg_logkey *k, const char *path, const char *name, char *err, size_t errlen);

void mdg_logkey_free(struct mdg_logkey *k);

/* Signs text (non-empty, ending in a newline, no blank line at its end, a
 * valid note text) as a note with one signature line: *note is malloc'd,
 * NUL-terminated, owned by the caller. 0, or -1 with err. */
int mdg_note_sign(const struct mdg_logkey *k, const char *text, size_t len, char **note, size_t *notelen, char *err,
		  size_t errlen);

/* The checkpoint body of a tree (origin = the key's name), signed. 0, or -1
 * with err. */
int mdg_checkpoint_body(const char *origin, uint64_t size, const unsigned char root[32], char *out, size_t outlen);
int mdg_checkpoint_sign(const struct mdg_logkey *k, uint64_t size, const unsigned char root[32], char **note,
			size_t *notelen, char *err, size_t errlen);

/* Parses a verifier key string. 0, or -1 with err (bad syntax, not an
 * Ed25519 key (type 0x01), or a key ID that does not match the key). */
int mdg_note_verifier_parse(const char *vkey, struct mdg_note_verifier *v, char *err, size_t errlen);

/* Opens a signed note as C2SP signed-note says: valid UTF-8 with no control
 * character but newline, the text up to the last blank line, one or more
 * well-formed signature lines (at most MDG_NOTE_MAX_SIGS). Lines of other
 * keys are ignored; the first line of v's name and key ID must verify, and
 * a failing one rejects the note. 0 with *textlen (the text is
 * note[0..*textlen), its final newline included), or -1 with err. */
int mdg_note_open(const char *note, size_t len, const struct mdg_note_verifier *v, size_t *textlen, char *err,
		  size_t errlen);

/* Parses a checkpoint body: origin line, tree size (decimal, no leading
 * zeros), base64 root hash of 32 bytes, then any extension lines. 0, or -1
 * with err. */
int mdg_checkpoint_parse(const char *text, size_t len, struct mdg_checkpoint *cp, char *err, size_t errlen);

/* mdg_note_open, then mdg_checkpoint_parse, and the origin must be origin
 * (NULL: v's name). 0, or -1 with err. */
int mdg_checkpoint_open(const char *note, size_t len, const struct mdg_note_verifier *v, const char *origin,
			struct mdg_checkpoint *cp, char *err, size_t errlen);

#endif
