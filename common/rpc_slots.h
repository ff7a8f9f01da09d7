/*
 * The RPC server's state, shared by its lifecycle (rpc_server.c: open,
 * threads, shutdown) and its slot scheduler (rpc_slots.c). Private to the
 * server; callers use rpc.h.
 */
#ifndef TA_COMMON_RPC_SLOTS_H
#define TA_COMMON_RPC_SLOTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "aio_expiry.h"
#include "rpc.h"

typedef enum slot_state {
	SLOT_IDLE,    /* nothing pending (before start, after shutdown) */
	SLOT_RECV,    /* receive pending */
	SLOT_QUEUED,  /* holds a call waiting for a serving thread */
	SLOT_SERVING, /* a serving thread runs its call */
	SLOT_SENDING, /* reply queued behind another on a busy pipe */
} slot_state;

/* One nng context of the socket and the call it holds. */
typedef struct srv_slot {
	struct ta_rpc_server *srv; /* borrowed: the owner */
	nng_ctx ctx;
	nng_aio *aio;          /* receives; callback slot_cb */
	nng_aio *saio;         /* sends; no callback (rpc_slots.c) */
	ta_aio_expiry sexpiry; /* of the send pending on saio */
	slot_state state;      /* guarded by srv->mu */
	nng_msg *req;          /* SLOT_QUEUED: the received call */
	struct srv_slot *next; /* queue link (calls, or queued sends) */
} srv_slot;

typedef struct srv_thread {
	struct ta_rpc_server *srv; /* borrowed: the owner */
	int index;
	pthread_t tid;
	bool is_started;
	void *state; /* from thread_init; this thread only */
} srv_thread;

struct ta_rpc_server {
	const ta_rpc_server_cfg *cfg; /* borrowed: outlives the server */
	size_t max_bytes;
	int queue_limit;
	nng_socket sock;
	pthread_mutex_t mu;
	pthread_cond_t has_work; /* queue non-empty or stopping */
	pthread_cond_t is_sent;  /* a send finished */
	pthread_cond_t has_send; /* a queued send to wait for, or the end */
	pthread_t sender;        /* waits for queued sends */
	bool is_sender_started;
	bool is_sender_done;     /* teardown: no more sends will come */
	srv_slot *send_head, *send_tail; /* FIFO of SLOT_SENDING slots */
	/* Guarded by mu: */
	bool is_stopping;
	srv_slot *head, *tail; /* FIFO of SLOT_QUEUED slots */
	int nqueued;
	int nbusy;	      /* serving threads inside a call */
	int64_t progress_us;  /* when a serving thread last took or ended one */
	int nsending;
	int64_t nserved; /* replies sent */
	bool is_shedding;
	int64_t nshed; /* calls refused during this overload */
	int nthreads;
	srv_thread *threads;
	int nslots;
	srv_slot *slots;
};

/* Starts a receive on slot; the caller holds slot->srv->mu. */
void ta_rpc_slot_recv(srv_slot *slot);

/* The receive callback of a slot, on an nng task thread: never blocks. */
void ta_rpc_slot_cb(void *arg);

/*
 * The sender thread (arg: the server): waits for the sends that nng
 * queued behind another reply and ends them, until is_sender_done.
 */
void *ta_rpc_sender_thread(void *arg);

/*
 * A serving thread (arg: its srv_thread): thread_init, then queued calls
 * until shutdown has drained the queue, then thread_fini.
 */
void *ta_rpc_serve_thread(void *arg);

#endif
