/*
 * pool.c - the thread pool behind multi-threaded encoding and decoding.
 *
 * A job is published under the mutex with a new generation number and
 * opened; a worker that wakes while it is open checks in, takes task
 * indices from an atomic counter until none are left, and checks out. The
 * caller takes tasks too; once they are all taken it waits only for the
 * workers that checked in, then closes the job, so a worker the scheduler
 * has not run yet costs no wait. Workers never touch a closed job, so its
 * context may live on the caller's stack.
 */
#include "internal.h"
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct eris__pool {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a new job or stop */
	pthread_cond_t done; /* the last worker checked out */
	pthread_t *threads;
	unsigned nworkers;
	unsigned started;
	unsigned long generation;
	int open;        /* the current job may still be joined */
	unsigned active; /* workers checked in to the current job */
	int stop;

	void (*fn)(void *, size_t);
	void *ctx;
	size_t n;
	atomic_size_t next;
};

static void take_tasks(eris__pool *pool)
{
	for (;;) {
		size_t i = atomic_fetch_add(&pool->next, 1);

		if (i >= pool->n)
			return;
		pool->fn(pool->ctx, i);
	}
}

static void *worker(void *arg)
{
	eris__pool *pool = arg;
	unsigned long seen = 0;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (!pool->stop &&
		       (pool->generation == seen || !pool->open))
			pthread_cond_wait(&pool->work, &pool->lock);
		if (pool->stop)
			break;
		seen = pool->generation;
		pool->active++;
		pthread_mutex_unlock(&pool->lock);
		take_tasks(pool);
		pthread_mutex_lock(&pool->lock);
		if (--pool->active == 0)
			pthread_cond_signal(&pool->done);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

int eris__pool_new(eris__pool **out, unsigned threads)
{
	eris__pool *pool;

	*out = NULL;
	if (threads <= 1)
		return ERIS_OK;
	pool = eris__calloc(1, sizeof(*pool));
	if (pool == NULL)
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	pool->threads = eris__calloc(threads - 1, sizeof(*pool->threads));
	if (pool->threads == NULL) {
		eris__free(pool);
		return eris_error_set(ERIS_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->work, NULL);
	pthread_cond_init(&pool->done, NULL);
	atomic_init(&pool->next, 0);
	pool->nworkers = threads - 1;
	for (unsigned i = 0; i < pool->nworkers; i++) {
		if (pthread_create(&pool->threads[i], NULL, worker, pool) != 0) {
			eris__pool_free(pool);
			return eris_error_set(ERIS_ERROR,
					      "cannot start %u threads",
					      threads);
		}
		pool->started++;
	}
	*out = pool;
	return ERIS_OK;
}

void eris__pool_run(eris__pool *pool, size_t n,
		    void (*fn)(void *ctx, size_t i), void *ctx)
{
	if (pool == NULL || n <= 1) {
		for (size_t i = 0; i < n; i++)
			fn(ctx, i);
		return;
	}
	pthread_mutex_lock(&pool->lock);
	pool->fn = fn;
	pool->ctx = ctx;
	pool->n = n;
	atomic_store(&pool->next, 0);
	pool->open = 1;
	pool->generation++;
	pthread_cond_broadcast(&pool->work);
	pthread_mutex_unlock(&pool->lock);

	take_tasks(pool);

	/* Every task is taken; those of checked-in workers may still run. */
	pthread_mutex_lock(&pool->lock);
	while (pool->active > 0)
		pthread_cond_wait(&pool->done, &pool->lock);
	pool->open = 0;
	pthread_mutex_unlock(&pool->lock);
}

void eris__pool_free(eris__pool *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stop = 1;
	pthread_cond_broadcast(&pool->work);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->started; i++)
		pthread_join(pool->threads[i], NULL);
	pthread_cond_destroy(&pool->done);
	pthread_cond_destroy(&pool->work);
	pthread_mutex_destroy(&pool->lock);
	eris__free(pool->threads);
	eris__free(pool);
}

unsigned eris__cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
}
