/* nodemem.h - the memory a loaded YAML tree lives in (runner/nodemem.c).
 *
 * The nodes, long texts and small arrays of a tree being parsed are carved
 * from blocks of their own (1 MiB, mapped from the system), not from
 * malloc. Each block counts what is still alive in it and is handed back
 * to the system when the last of it is released. So a tree freed piece by
 * piece (the suite loader clears each entry once it is built) returns whole
 * pages, and what is built from it meanwhile goes to malloc's heap without
 * landing in the holes the tree leaves there.
 *
 * A pool belongs to one parse (one thread); released pieces may be freed
 * from any thread. Only runner/node.c uses this; a node says which of its
 * parts came from a pool (struct node's pooled bits). */
#ifndef PHASEGATE_NODEMEM_H
#define PHASEGATE_NODEMEM_H

#include <stddef.h>

struct node_pool {
	char *block; /* the block being filled, NULL before the first piece */
	size_t used; /* bytes of it handed out (the header included) */
};

/* A piece of size bytes (8-byte aligned, not zeroed), or NULL when pool is
 * NULL or the piece is too large for a block: the caller then uses malloc. */
void *node_pool_alloc(struct node_pool *pool, size_t size);
/* Releases a piece; size is what was asked (for the address sanitizer). */
void node_pool_release(void *piece, size_t size);
/* Ends the parse: the block being filled is released once its pieces are. */
void node_pool_close(struct node_pool *pool);

#endif
