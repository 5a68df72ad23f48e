/*
 * jobs.c - erisd's worker pool, group commit and eventfd (see jobs.h).
 *
 * PUTs waiting in the job queue together are stored and then made
 * durable by one flush (group commit: one fsync instead of one per
 * block), and only then answered: a PUT is never acknowledged before
 * its flush.
 *
 * GETs and HEADs of blocks waiting together (at most CMD_PREFETCH_MAX)
 * are answered together too: the blocks the cache lacks are read with
 * one eris_store_get_many() and hashed side by side (the 8-lane BLAKE2b
 * on AVX-512), which costs less CPU per block than one by one. Each is
 * still verified before it is answered.
 *
 * May call: cmd.c, the store, pthreads. Knows nothing of io_uring nor of
 * connections.
 */
#define _GNU_SOURCE
#include "jobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* At most this many PUTs share one flush (group commit). */
#define PUT_BATCH 64

static int is_put(const jobs_item *c)
{
	return c->kind == JOBS_HANDLE && c->req->method == HTTP_PUT;
}

static int is_block_get(const jobs_item *c)
{
	return c->kind == JOBS_HANDLE && c->req->kind == TARGET_BLOCK &&
	       c->req->method != HTTP_PUT;
}

/* Answer a GET/HEAD of a block and those queued right behind it: the
 * blocks missing from the cache are read and hashed together (the
 * 8-lane BLAKE2b where the CPU has it), then each is answered. */
static size_t run_gets(jobs *l, jobs_item *c, jobs_item **batch)
{
	cmd_state *st[CMD_PREFETCH_MAX];
	const http_request *req[CMD_PREFETCH_MAX];
	size_t n = 1, i;

	batch[0] = c;
	pthread_mutex_lock(&l->mu);
	while (n < CMD_PREFETCH_MAX && l->q_head && is_block_get(l->q_head)) {
		batch[n++] = l->q_head;
		l->q_head = l->q_head->next;
	}
	if (!l->q_head)
		l->q_tail = NULL;
	pthread_mutex_unlock(&l->mu);
	for (i = 0; i < n; i++) {
		st[i] = batch[i]->st;
		req[i] = batch[i]->req;
	}
	if (n > 1)
		cmd_prefetch_blocks(l->cfg, n, st, req, 0);
	for (i = 0; i < n; i++)
		cmd_handle(l->cfg, batch[i]->st, batch[i]->peer,
			   batch[i]->req, batch[i]->body, batch[i]->resp);
	return n;
}

/* Run one job; for a PUT, also the PUTs queued right behind it, all made
 * durable by one eris_store_flush() before any of them is answered. */
static size_t run_job(jobs *l, jobs_item *c, jobs_item **batch)
{
	size_t n = 1, i;
	int rc = ERIS_OK, flush = 0;

	batch[0] = c;
	switch (c->kind) {
	case JOBS_HANDLE:
		if (is_block_get(c))
			return run_gets(l, c, batch);
		if (!is_put(c))
			break;
		pthread_mutex_lock(&l->mu);
		while (n < PUT_BATCH && l->q_head && is_put(l->q_head)) {
			batch[n++] = l->q_head;
			l->q_head = l->q_head->next;
		}
		if (!l->q_head)
			l->q_tail = NULL;
		pthread_mutex_unlock(&l->mu);
		for (i = 0; i < n; i++) {
			jobs_item *b = batch[i];

			b->st->defer_flush = 1;
			cmd_handle(l->cfg, b->st, b->peer, b->req, b->body,
				   b->resp);
			flush |= b->resp->flush_pending;
		}
		if (flush)
			rc = eris_store_flush(l->cfg->store);
		for (i = 0; i < n; i++)
			if (batch[i]->resp->flush_pending)
				cmd_flushed(l->cfg, batch[i]->st,
					    batch[i]->peer, batch[i]->req,
					    rc, batch[i]->resp);
		return n;
	case JOBS_CONTINUE:
		cmd_continue(l->cfg, c->st, c->resp);
		return n;
	case JOBS_ERROR:
		cmd_error(l->cfg, c->st, c->peer, c->req, c->status, c->resp);
		return n;
	}
	cmd_handle(l->cfg, c->st, c->peer, c->req, c->body, c->resp);
	return n;
}

static void *worker_main(void *arg)
{
	jobs *l = arg;
	jobs_item *batch[PUT_BATCH];

	for (;;) {
		jobs_item *c;
		size_t n, i;

		pthread_mutex_lock(&l->mu);
		while (!l->q_head && !l->stop_workers)
			pthread_cond_wait(&l->cv, &l->mu);
		if (!l->q_head) {
			pthread_mutex_unlock(&l->mu);
			return NULL;
		}
		c = l->q_head;
		l->q_head = c->next;
		if (!l->q_head)
			l->q_tail = NULL;
		pthread_mutex_unlock(&l->mu);

		n = run_job(l, c, batch);

		pthread_mutex_lock(&l->mu);
		for (i = 0; i < n; i++) {
			batch[i]->next = NULL;
			if (l->d_tail)
				l->d_tail->next = batch[i];
			else
				l->d_head = batch[i];
			l->d_tail = batch[i];
		}
		pthread_mutex_unlock(&l->mu);
		jobs_wake(l);
	}
}

void jobs_wake(jobs *j)
{
	uint64_t one = 1;

	/* A failed write cannot lose a wake-up: it fails only with EAGAIN
	 * (the counter is saturated), so a read is pending already. */
	if (j->event_fd >= 0 && write(j->event_fd, &one, sizeof one) < 0) {
		/* EAGAIN only. */
	}
}

void jobs_submit(jobs *l, jobs_item *c)
{
	c->next = NULL;
	pthread_mutex_lock(&l->mu);
	if (l->q_tail)
		l->q_tail->next = c;
	else
		l->q_head = c;
	l->q_tail = c;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

jobs_item *jobs_take_done(jobs *l)
{
	jobs_item *c;

	pthread_mutex_lock(&l->mu);
	c = l->d_head;
	l->d_head = l->d_tail = NULL;
	pthread_mutex_unlock(&l->mu);
	return c;
}

int jobs_init(jobs *l, const erisd_config *cfg)
{
	unsigned i;

	l->cfg = cfg;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->init = 1;
	l->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->event_fd < 0) {
		fprintf(stderr, "erisd: eventfd/signalfd: %s\n",
			strerror(errno));
		return -1;
	}
	l->threads = calloc(cfg->workers, sizeof *l->threads);
	if (!l->threads)
		return -1;
	for (i = 0; i < cfg->workers; i++) {
		if (pthread_create(&l->threads[i], NULL, worker_main, l) != 0)
			break;
		l->nthreads++;
	}
	if (l->nthreads == 0) {
		fprintf(stderr, "erisd: cannot start worker threads\n");
		return -1;
	}
	return 0;
}

void jobs_fini(jobs *l)
{
	unsigned i;

	if (!l->init)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop_workers = 1;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	for (i = 0; i < l->nthreads; i++)
		pthread_join(l->threads[i], NULL);
	free(l->threads);
	l->threads = NULL;
	if (l->event_fd >= 0)
		close(l->event_fd);
	l->event_fd = -1;
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	l->init = 0;
}
