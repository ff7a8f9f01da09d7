/*
 * Token buckets in an open-addressed table of fixed size. A key's place is
 * a keyed hash (SipHash, random key per process), so an attacker cannot
 * aim many addresses at one victim's place; lookups probe PROBE slots.
 */
#include "rate_limit.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "alloc.h"
#include "client_addr.h"

#define PROBE 8

typedef struct bucket {
	bool is_used;
	char addr[EDGE_ADDR_MAX];
	double tokens;
	int64_t last_us;
} bucket;

struct edge_rl {
	pthread_mutex_t mu;
	unsigned char key[crypto_shorthash_KEYBYTES];
	size_t mask;
	bucket *slots;
};

edge_rl *
edge_rl_new(size_t slots)
{
	edge_rl *t = ta_xcalloc(1, sizeof *t);
	size_t n = 16;

	while (n < slots && n < ((size_t)1 << 30))
		n <<= 1;
	pthread_mutex_init(&t->mu, NULL);
	randombytes_buf(t->key, sizeof t->key);
	t->mask = n - 1;
	t->slots = ta_xcalloc(n, sizeof *t->slots);
	return t;
}

void
edge_rl_free(edge_rl *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->slots);
	free(t);
}

/* The bucket's tokens at now_us (refilled, capped at the quota). */
static double
refilled(const bucket *b, const edge_rl_policy *p, int64_t now_us)
{
	double dt = (double)(now_us - b->last_us) / 1e6;
	double v = b->tokens +
	           (dt > 0 ? dt : 0) * (double)p->quota / (double)p->window_s;

	return v > (double)p->quota ? (double)p->quota : v;
}

static size_t
place(const edge_rl *t, const char *addr)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, (const unsigned char *)addr,
	    strlen(addr), t->key);
	return (size_t)h & t->mask;
}

/* The bucket of the key, or the slot to (re)use for it. */
static bucket *
find(edge_rl *t, const edge_rl_policy *p, const char *addr, int64_t now_us,
    bool *is_new)
{
	size_t at = place(t, addr);
	bucket *victim = NULL;
	double victim_tokens = -1;

	for (size_t i = 0; i < PROBE; i++) {
		bucket *b = &t->slots[(at + i) & t->mask];
		double v;

		if (!b->is_used) {
			if (!victim || victim->is_used)
				victim = b;
			continue;
		}
		if (strcmp(b->addr, addr) == 0) {
			*is_new = false;
			return b;
		}
		if (victim && !victim->is_used)
			continue;
		v = refilled(b, p, now_us);
		if (v > victim_tokens) {
			victim = b;
			victim_tokens = v;
		}
	}
	*is_new = true;
	return victim;
}

edge_rl_result
edge_rl_take(
    edge_rl *t, const edge_rl_policy *p, const char *addr, int64_t now_us)
{
	edge_rl_result res = {0};
	bool is_new;
	bucket *b;
	double v;

	pthread_mutex_lock(&t->mu);
	b = find(t, p, addr, now_us, &is_new);
	if (is_new) {
		*b = (bucket){.is_used = true,
		    .tokens = (double)p->quota,
		    .last_us = now_us};
		snprintf(b->addr, sizeof b->addr, "%s", addr);
	}
	v = refilled(b, p, now_us);
	b->last_us = now_us;
	if (v >= 1.0) {
		v -= 1.0;
		res.is_allowed = true;
	} else {
		/* Seconds until one whole token is back, rounded up. */
		res.retry_after_s = (long)ceil(
		    (1.0 - v) * (double)p->window_s / (double)p->quota);
		if (res.retry_after_s < 1)
			res.retry_after_s = 1;
	}
	b->tokens = v;
	res.remaining = (long)floor(v);
	pthread_mutex_unlock(&t->mu);
	return res;
}

void
edge_rl_headers(const char *name, long q, long w, long r, long t,
    char policy[EDGE_RL_HEADER_MAX], char state[EDGE_RL_HEADER_MAX])
{
	if (w > 0)
		snprintf(policy, EDGE_RL_HEADER_MAX, "\"%s\";q=%ld;w=%ld", name,
		    q, w);
	else
		snprintf(policy, EDGE_RL_HEADER_MAX, "\"%s\";q=%ld", name, q);
	snprintf(state, EDGE_RL_HEADER_MAX, "\"%s\";r=%ld;t=%ld", name, r, t);
}
