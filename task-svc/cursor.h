/*
 * List cursors: the opaque next_cursor of a ListTasks page. A cursor is
 * base64url (no padding) of version, a fingerprint of the list it belongs
 * to (user, filters, q, sort), the last row's sort key and id, and a keyed
 * BLAKE2b tag over all of it. The key is derived from RPC_AUTH_KEY with a
 * KDF context of its own, so rotating that key invalidates every cursor.
 * Pure: libsodium only, no SQL, no sockets.
 */
#ifndef TA_TASK_SVC_CURSOR_H
#define TA_TASK_SVC_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define TASK_CURSOR_KEY_BYTES 32
#define TASK_CURSOR_FP_BYTES 16
/* Longest sort key a cursor carries (a title of 200 characters fits). */
#define TASK_CURSOR_SORT_KEY_MAX 1024
/* Longest cursor text accepted (and produced, with room to spare). */
#define TASK_CURSOR_TEXT_MAX 1536

/* Where a page ended: the last row's sort key (text) and id. */
typedef struct task_cursor {
	char sort_key[TASK_CURSOR_SORT_KEY_MAX + 1];
	int64_t id;
} task_cursor;

/* Derives the cursor key from the RPC_AUTH_KEY material (any length). */
void task_cursor_key_derive(
    const char *material, uint8_t key[TASK_CURSOR_KEY_BYTES]);

/*
 * The fingerprint of a list: a keyed hash of the parts (each parts[i] of
 * lens[i] bytes, length-prefixed so no two splits collide).
 */
void task_cursor_fingerprint(const uint8_t key[TASK_CURSOR_KEY_BYTES],
    const void *const *parts, const size_t *lens, size_t n,
    uint8_t fp[TASK_CURSOR_FP_BYTES]);

/*
 * Writes the cursor text of c for the list fp into out (cap bytes, at
 * least TASK_CURSOR_TEXT_MAX + 1). TA_INVALID_ARGUMENT when the sort key
 * is too long (no cursor is written).
 */
ta_status task_cursor_encode(const uint8_t key[TASK_CURSOR_KEY_BYTES],
    const uint8_t fp[TASK_CURSOR_FP_BYTES], const task_cursor *c, char *out,
    size_t cap);

/* Why a cursor was refused. */
typedef enum task_cursor_error {
	TASK_CURSOR_MALFORMED = 1, /* not ours, tampered, or garbage */
	TASK_CURSOR_OTHER_LIST,    /* ours, but of other filters/sort/user */
} task_cursor_error;

/*
 * Reads text into *c when it is a cursor this key issued for the list fp.
 * TA_INVALID_ARGUMENT with *why set otherwise.
 */
ta_status task_cursor_decode(const uint8_t key[TASK_CURSOR_KEY_BYTES],
    const uint8_t fp[TASK_CURSOR_FP_BYTES], const char *text, task_cursor *c,
    task_cursor_error *why);

#endif
