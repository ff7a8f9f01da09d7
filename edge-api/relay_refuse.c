/*
 * The front's refusals (relay_internal.h): a request the front answers
 * itself is logged, its JSON error is prepared, and it is written once
 * libmicrohttpd's side is done; then the client is drained for a bounded
 * time (relay.c).
 */
#include "relay_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "log.h"
#include "reply.h"
#include "request.h"

/* The front's access line for a request it answered itself. */
static void
log_refusal(edge_relay *r, int status, const char *reason, const char *rid,
    int64_t now_us)
{
	const edge_head *h = r->fr.has_head ? &r->fr.head : NULL;
	edge_access a = {
	    .request_id = rid,
	    .method = h && h->method[0] ? h->method : NULL,
	    .status = status,
	    .latency_us = now_us - r->started_us,
	};

	ta_log(TA_LOG_INFO, "http_refused", reason, TA_S("request_id", rid),
	    TA_I("status", status));
	edge_access_log(&a);
}

/* Moves the pending refusal to the client; from now on only drain. */
void
edge_relay_release_refusal(edge_relay *r, int64_t now_us)
{
	edge_buf_append(&r->to_client, r->refusal, r->refusal_len);
	free(r->refusal);
	r->refusal = NULL;
	r->mode = M_LINGER;
	edge_relay_set_deadline(r, DL_LINGER, now_us, LINGER_US);
}

/* Closes libmicrohttpd's side at once: it drops what it was reading. */
void
edge_relay_close_mhd(edge_relay *r)
{
	if (r->mfd >= 0)
		close(r->mfd);
	r->mfd = -1;
	r->mev = 0;
}

/*
 * Answers status and stops relaying: nothing the client sent after this
 * point reaches libmicrohttpd. Cut in the middle of a request
 * (is_mid_request), libmicrohttpd's side is closed at once; between
 * requests it is shut (pump) so that it finishes what it was answering,
 * and the refusal follows that.
 */
void
edge_relay_refuse(edge_relay *r, int status, const char *reason,
    bool is_mid_request, int64_t now_us)
{
	const edge_head *h = r->fr.has_head ? &r->fr.head : NULL;
	char rid[EDGE_REQUEST_ID_MAX + 1];
	edge_header cors[EDGE_CORS_MAX_HEADERS];
	size_t ncors = 0;

	edge_request_id_pick(h && h->request_id[0] ? h->request_id : NULL, rid);
	if (h && h->origin[0])
		ncors = edge_cors_headers(
		    r->env->cfg->cors, h->origin, false, cors);
	log_refusal(r, status, reason, rid, now_us);
	free(r->refusal);
	r->refusal = edge_reply_error(status, reason, rid, cors, ncors,
	    h && strcmp(h->method, "HEAD") == 0, &r->refusal_len);
	edge_buf_consume(&r->to_mhd, edge_buf_pending(&r->to_mhd));
	r->drained = 0;
	if (is_mid_request)
		edge_relay_close_mhd(r);
	if (r->mfd < 0) {
		edge_relay_release_refusal(r, now_us);
		return;
	}
	r->mode = M_REFUSE;
	edge_relay_set_deadline(r, DL_REFUSE, now_us, REFUSE_WAIT_US);
}

void
edge_relay_reject(
    edge_relay *r, edge_rejection why, bool is_mid_request, int64_t now_us)
{
	edge_relay_refuse(r, edge_rejection_status(why),
	    edge_rejection_message(why), is_mid_request, now_us);
}
