/*
 * List cursors (cursor.h). Layout before base64url: version (1), list
 * fingerprint (16), id (8, big-endian), sort key length (2, big-endian),
 * sort key, then the tag (16): BLAKE2b keyed with the cursor key over
 * every byte before it.
 */
#include "cursor.h"

#include <string.h>

#include <sodium.h>

#define CURSOR_VERSION 1
#define CURSOR_TAG_BYTES 16
#define CURSOR_HEAD_BYTES (1 + TASK_CURSOR_FP_BYTES + 8 + 2)
#define CURSOR_BIN_MAX                                                         \
	(CURSOR_HEAD_BYTES + TASK_CURSOR_SORT_KEY_MAX + CURSOR_TAG_BYTES)

/* crypto_kdf context: exactly 8 bytes, this use only. */
static const char kdf_context[crypto_kdf_CONTEXTBYTES + 1] = "tacursor";

void
task_cursor_key_derive(const char *material, uint8_t key[TASK_CURSOR_KEY_BYTES])
{
	uint8_t master[crypto_kdf_KEYBYTES];

	/* Any length of material -> one master key, then the subkey. */
	crypto_generichash(master, sizeof master, (const uint8_t *)material,
	    strlen(material), NULL, 0);
	crypto_kdf_derive_from_key(
	    key, TASK_CURSOR_KEY_BYTES, 1, kdf_context, master);
	sodium_memzero(master, sizeof master);
}

void
task_cursor_fingerprint(const uint8_t key[TASK_CURSOR_KEY_BYTES],
    const void *const *parts, const size_t *lens, size_t n,
    uint8_t fp[TASK_CURSOR_FP_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(
	    &st, key, TASK_CURSOR_KEY_BYTES, TASK_CURSOR_FP_BYTES);
	for (size_t i = 0; i < n; i++) {
		uint8_t len[8];
		uint64_t l = lens[i];

		for (int b = 7; b >= 0; b--, l >>= 8)
			len[b] = (uint8_t)l;
		crypto_generichash_update(&st, len, sizeof len);
		crypto_generichash_update(&st, parts[i], lens[i]);
	}
	crypto_generichash_final(&st, fp, TASK_CURSOR_FP_BYTES);
}

static void
tag_of(const uint8_t key[TASK_CURSOR_KEY_BYTES], const uint8_t *bin, size_t n,
    uint8_t tag[CURSOR_TAG_BYTES])
{
	crypto_generichash(
	    tag, CURSOR_TAG_BYTES, bin, n, key, TASK_CURSOR_KEY_BYTES);
}

ta_status
task_cursor_encode(const uint8_t key[TASK_CURSOR_KEY_BYTES],
    const uint8_t fp[TASK_CURSOR_FP_BYTES], const task_cursor *c, char *out,
    size_t cap)
{
	uint8_t bin[CURSOR_BIN_MAX];
	size_t klen = strlen(c->sort_key), at = 0;
	uint64_t id = (uint64_t)c->id;

	if (klen > TASK_CURSOR_SORT_KEY_MAX ||
	    cap < sodium_base64_ENCODED_LEN(
	              CURSOR_BIN_MAX, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return TA_INVALID_ARGUMENT;
	bin[at++] = CURSOR_VERSION;
	memcpy(bin + at, fp, TASK_CURSOR_FP_BYTES);
	at += TASK_CURSOR_FP_BYTES;
	for (int b = 7; b >= 0; b--)
		bin[at++] = (uint8_t)(id >> (8 * b));
	bin[at++] = (uint8_t)(klen >> 8);
	bin[at++] = (uint8_t)klen;
	memcpy(bin + at, c->sort_key, klen);
	at += klen;
	tag_of(key, bin, at, bin + at);
	at += CURSOR_TAG_BYTES;
	sodium_bin2base64(
	    out, cap, bin, at, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return TA_OK;
}

ta_status
task_cursor_decode(const uint8_t key[TASK_CURSOR_KEY_BYTES],
    const uint8_t fp[TASK_CURSOR_FP_BYTES], const char *text, task_cursor *c,
    task_cursor_error *why)
{
	uint8_t bin[CURSOR_BIN_MAX], tag[CURSOR_TAG_BYTES];
	size_t n = 0, klen, tlen = strlen(text);
	const char *end = NULL;
	uint64_t id = 0;

	*why = TASK_CURSOR_MALFORMED;
	if (tlen > TASK_CURSOR_TEXT_MAX ||
	    sodium_base642bin(bin, sizeof bin, text, tlen, NULL, &n, &end,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != text + tlen || n < CURSOR_HEAD_BYTES + CURSOR_TAG_BYTES)
		return TA_INVALID_ARGUMENT;
	tag_of(key, bin, n - CURSOR_TAG_BYTES, tag);
	if (crypto_verify_16(tag, bin + n - CURSOR_TAG_BYTES) != 0)
		return TA_INVALID_ARGUMENT;
	klen = (size_t)bin[CURSOR_HEAD_BYTES - 2] << 8 |
	       bin[CURSOR_HEAD_BYTES - 1];
	/* Our own tag: a bad layout means another version wrote it. */
	if (bin[0] != CURSOR_VERSION ||
	    CURSOR_HEAD_BYTES + klen + CURSOR_TAG_BYTES != n ||
	    klen > TASK_CURSOR_SORT_KEY_MAX ||
	    memchr(bin + CURSOR_HEAD_BYTES, '\0', klen))
		return TA_INVALID_ARGUMENT;
	if (sodium_memcmp(bin + 1, fp, TASK_CURSOR_FP_BYTES) != 0) {
		*why = TASK_CURSOR_OTHER_LIST;
		return TA_INVALID_ARGUMENT;
	}
	for (int b = 0; b < 8; b++)
		id = id << 8 | bin[1 + TASK_CURSOR_FP_BYTES + b];
	c->id = (int64_t)id;
	memcpy(c->sort_key, bin + CURSOR_HEAD_BYTES, klen);
	c->sort_key[klen] = '\0';
	return TA_OK;
}
