/*
 * The revocation cache (revocation.h): a sorted array of (user, generation)
 * behind a read-write lock. The poller builds the new array outside the
 * lock and swaps it in; readers hold the lock only for the search.
 */
#include "revocation.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

struct edge_revocations {
	pthread_rwlock_t lock;
	edge_revocation *items; /* owned; sorted by user_id, unique */
	size_t n;
};

edge_revocations *
edge_revocations_new(void)
{
	edge_revocations *rv = ta_xcalloc(1, sizeof *rv);

	pthread_rwlock_init(&rv->lock, NULL);
	return rv;
}

void
edge_revocations_free(edge_revocations *rv)
{
	if (!rv)
		return;
	pthread_rwlock_destroy(&rv->lock);
	free(rv->items);
	free(rv);
}

static int
by_user(const void *a, const void *b)
{
	const edge_revocation *x = a, *y = b;

	return (x->user_id > y->user_id) - (x->user_id < y->user_id);
}

void
edge_revocations_replace(
    edge_revocations *rv, const edge_revocation *items, size_t n)
{
	edge_revocation *copy = ta_xcalloc(n ? n : 1, sizeof *copy);
	edge_revocation *old;
	size_t m = 0;

	if (n)
		memcpy(copy, items, n * sizeof *copy);
	qsort(copy, n, sizeof *copy, by_user);
	/* One entry per user: the highest generation wins. */
	for (size_t i = 0; i < n; i++) {
		if (m && copy[m - 1].user_id == copy[i].user_id) {
			if (copy[i].generation > copy[m - 1].generation)
				copy[m - 1].generation = copy[i].generation;
			continue;
		}
		copy[m++] = copy[i];
	}
	pthread_rwlock_wrlock(&rv->lock);
	old = rv->items;
	rv->items = copy;
	rv->n = m;
	pthread_rwlock_unlock(&rv->lock);
	free(old);
}

bool
edge_revocations_is_revoked(
    edge_revocations *rv, int64_t user_id, int64_t generation)
{
	edge_revocation key = {.user_id = user_id};
	const edge_revocation *hit;
	bool is_revoked;

	if (!rv)
		return false; // no cache (unit tests build apps without one)
	pthread_rwlock_rdlock(&rv->lock);
	hit =
	    rv->n ? bsearch(&key, rv->items, rv->n, sizeof key, by_user) : NULL;
	is_revoked = hit && generation < hit->generation;
	pthread_rwlock_unlock(&rv->lock);
	return is_revoked;
}

size_t
edge_revocations_count(edge_revocations *rv)
{
	size_t n;

	pthread_rwlock_rdlock(&rv->lock);
	n = rv->n;
	pthread_rwlock_unlock(&rv->lock);
	return n;
}
