/*
 * What the edge and the workers agree on about idempotency keys, without
 * the database side (common/idem.h): the longest key and the field a
 * reused key's violation names.
 */
#ifndef TA_COMMON_IDEM_KEY_H
#define TA_COMMON_IDEM_KEY_H

/*
 * Longest idempotency key, end to end: the edge refuses a longer
 * Idempotency-Key header and every worker a longer envelope key.
 */
#define TA_IDEM_KEY_MAX 128
#define TA_IDEM_STR_(x) #x
#define TA_IDEM_STR(x) TA_IDEM_STR_(x)
/* What a worker says of a longer key (with INVALID_ARGUMENT). */
#define TA_IDEM_KEY_TOO_LONG                                                   \
	"Idempotency-Key is longer than " TA_IDEM_STR(                         \
	    TA_IDEM_KEY_MAX) " characters"

/*
 * The field of the one violation a reused key gets. The edge renders an
 * INVALID_ARGUMENT carrying it as 422 (edge-api/render.c).
 */
#define TA_IDEM_REUSE_FIELD "Idempotency-Key"

#endif
