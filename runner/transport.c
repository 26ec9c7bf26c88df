/* transport.c - the run's one libcurl multi handle and the thread that
 * drives it (see transport.h). Submitted transfers wait in a queue guarded
 * by one mutex; the thread moves them into the multi handle, runs libcurl
 * until some finish, and wakes each submitter through the condition
 * variable of its submission. Nothing but this thread touches the multi
 * handle (curl_multi_wakeup, which libcurl makes safe from any thread,
 * aside). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "transport.h"

/* The longest one wait in curl_multi_poll lasts while transfers run, so
 * the progress callbacks (which see interrupts) run at least this often. */
#define TRANSPORT_TICK_MS 200
/* ... and while the thread is idle (a submission wakes it at once). */
#define TRANSPORT_IDLE_MS 5000

/* One submission; lives on the submitter's stack until done is set. */
struct xfer {
	CURL *easy;
	CURLcode result;
	int done;
	pthread_cond_t cv;
	struct xfer *prev, *next; /* in the queue, then in the active list */
};

static pthread_mutex_t tp_lock = PTHREAD_MUTEX_INITIALIZER;
/* Guarded by tp_lock: */
static struct xfer *tp_queue, *tp_queue_last; /* submitted, not yet in the multi */
static CURLM *tp_multi;                       /* owned; NULL when no thread runs */
static pthread_t tp_thread;
static int tp_stop;
static long tp_pool = TRANSPORT_MIN_CONNS;

/* Raises the soft limit of open files towards need (never past the hard
 * limit) so the pool, the concurrent checks' own files and the streams fit;
 * a lower limit would turn into "cannot connect" mid-run. */
static void fd_room(long need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= (rlim_t)need)
		return;
	rlim_t want = (rlim_t)need;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	rl.rlim_cur = want;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

void transport_set_concurrency(int jobs)
{
	long j = jobs > 0 ? jobs : 1;
	long n = j * TRANSPORT_CONNS_PER_JOB;
	if (n < TRANSPORT_MIN_CONNS)
		n = TRANSPORT_MIN_CONNS;
	pthread_mutex_lock(&tp_lock);
	tp_pool = n;
	pthread_mutex_unlock(&tp_lock);
	/* the pool, a connection in flight and a few files per job, and stdio */
	fd_room(n + j * 4 + 64);
}

long transport_pool_size(void)
{
	pthread_mutex_lock(&tp_lock);
	long n = tp_pool;
	pthread_mutex_unlock(&tp_lock);
	return n;
}

/* Hands x back to its submitter. Called with tp_lock held. */
static void xfer_finish(struct xfer *x, CURLcode code)
{
	x->result = code;
	x->done = 1;
	pthread_cond_signal(&x->cv);
}

static void list_remove(struct xfer **head, struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		*head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
}

/* Moves what was submitted into the multi handle (transport thread). */
static void take_queue(CURLM *m, struct xfer **active)
{
	pthread_mutex_lock(&tp_lock);
	struct xfer *batch = tp_queue;
	tp_queue = tp_queue_last = NULL;
	pthread_mutex_unlock(&tp_lock);
	while (batch) {
		struct xfer *x = batch;
		batch = x->next;
		x->prev = x->next = NULL;
		curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (void *)x);
		if (curl_multi_add_handle(m, x->easy) != CURLM_OK) {
			pthread_mutex_lock(&tp_lock);
			xfer_finish(x, CURLE_OUT_OF_MEMORY);
			pthread_mutex_unlock(&tp_lock);
			continue;
		}
		x->next = *active;
		if (*active)
			(*active)->prev = x;
		*active = x;
	}
}

/* Hands back every finished transfer (transport thread). Returns how many. */
static int reap(CURLM *m, struct xfer **active)
{
	int n = 0, left = 0;
	CURLMsg *msg;
	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *e = msg->easy_handle;
		CURLcode code = msg->data.result; /* msg dies with the removal */
		char *p = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &p);
		struct xfer *x = (struct xfer *)(void *)p;
		curl_multi_remove_handle(m, e);
		if (!x)
			continue;
		list_remove(active, x);
		pthread_mutex_lock(&tp_lock);
		xfer_finish(x, code);
		pthread_mutex_unlock(&tp_lock);
		n++;
	}
	return n;
}

static void *tp_main(void *arg)
{
	CURLM *m = arg;
	struct xfer *active = NULL;
	long applied = -1;
	for (;;) {
		pthread_mutex_lock(&tp_lock);
		int stop = tp_stop;
		long pool = tp_pool;
		pthread_mutex_unlock(&tp_lock);
		if (stop)
			break;
		if (pool != applied) {
			curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, pool);
			applied = pool;
		}
		take_queue(m, &active);
		int running = 0;
		curl_multi_perform(m, &running);
		reap(m, &active);
		long wait = -1;
		curl_multi_timeout(m, &wait);
		long cap = active ? TRANSPORT_TICK_MS : TRANSPORT_IDLE_MS;
		if (wait < 0 || wait > cap)
			wait = cap;
		curl_multi_poll(m, NULL, 0, (int)wait, NULL);
	}
	/* Stopping: nothing should still run; whatever does is given up. */
	take_queue(m, &active);
	while (active) {
		struct xfer *x = active;
		list_remove(&active, x);
		curl_multi_remove_handle(m, x->easy);
		pthread_mutex_lock(&tp_lock);
		xfer_finish(x, CURLE_ABORTED_BY_CALLBACK);
		pthread_mutex_unlock(&tp_lock);
	}
	return NULL;
}

/* Starts the thread. Called with tp_lock held; 0 or -1. */
static int tp_start(void)
{
	CURLM *m = curl_multi_init();
	if (!m)
		return -1;
	curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, tp_pool);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	tp_stop = 0;
	int rc = pthread_create(&tp_thread, &attr, tp_main, m);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		curl_multi_cleanup(m);
		return -1;
	}
	tp_multi = m;
	return 0;
}

CURLcode transport_perform(CURL *c)
{
	struct xfer x = {.easy = c};
	pthread_mutex_lock(&tp_lock);
	if (tp_stop || (!tp_multi && tp_start() != 0)) {
		pthread_mutex_unlock(&tp_lock);
		/* No thread to be had (or it is stopping): run the transfer
		 * here, on connections of its own. */
		return curl_easy_perform(c);
	}
	pthread_cond_init(&x.cv, NULL);
	if (tp_queue_last)
		tp_queue_last->next = &x;
	else
		tp_queue = &x;
	tp_queue_last = &x;
	curl_multi_wakeup(tp_multi);
	while (!x.done)
		pthread_cond_wait(&x.cv, &tp_lock);
	pthread_mutex_unlock(&tp_lock);
	pthread_cond_destroy(&x.cv);
	return x.result;
}

void transport_shutdown(void)
{
	pthread_mutex_lock(&tp_lock);
	CURLM *m = tp_multi;
	if (!m) {
		pthread_mutex_unlock(&tp_lock);
		return;
	}
	tp_stop = 1;
	curl_multi_wakeup(m);
	pthread_mutex_unlock(&tp_lock);
	pthread_join(tp_thread, NULL);
	curl_multi_cleanup(m);
	pthread_mutex_lock(&tp_lock);
	tp_multi = NULL;
	tp_stop = 0;
	pthread_mutex_unlock(&tp_lock);
}
