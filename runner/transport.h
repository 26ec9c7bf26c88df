/* transport.h - one libcurl multi handle driven by one transport thread, on
 * which every HTTP exchange of the run travels (runner/http.c submits them).
 *
 * Why one thread: libcurl's connection cache cannot be shared between
 * threads that run transfers at the same time, and HTTP/2 multiplexing
 * (many requests on one connection) needs all of them in one multi handle.
 * Worker threads therefore hand their prepared easy handle to the
 * transport thread and sleep until it is done; libcurl's callbacks (write,
 * header, progress) run on the transport thread while the submitting
 * worker waits, so they may touch that worker's data without locks.
 *
 * Connections: one pool for the run, sized by transport_set_concurrency();
 * HTTP/2 origins get their concurrent requests on one connection (up to
 * the server's stream limit), HTTP/1.1 origins one keep-alive connection per
 * concurrent request, kept for the next ones. */
#ifndef PHASEGATE_TRANSPORT_H
#define PHASEGATE_TRANSPORT_H

#include <curl/curl.h>

/* Connections kept open for reuse per concurrent check (see
 * transport_set_concurrency), and the floor of the pool. */
#define TRANSPORT_CONNS_PER_JOB 2
#define TRANSPORT_MIN_CONNS 16

/* The size of the run's connection pool: TRANSPORT_CONNS_PER_JOB per
 * concurrent check, at least TRANSPORT_MIN_CONNS. Call before the first
 * exchange (main does, from --jobs); later calls apply to the next start. */
void transport_set_concurrency(int jobs);

/* The pool size in force (for tests and --help). */
long transport_pool_size(void);

/* Runs the transfer prepared on c (any thread; c is not in any multi
 * handle) and returns its result once it has finished; c is back in the
 * caller's hands then. Blocks; per-transfer timeouts and the callbacks set
 * on c bound the wait. Starts the transport thread on first use. */
CURLcode transport_perform(CURL *c);

/* Stops the transport thread and closes its connections. Call once no
 * thread is inside transport_perform (http_global_cleanup does). */
void transport_shutdown(void);

#endif
