/* nodemem.c - blocks for loaded YAML trees (runner/nodemem.h says why).
 *
 * A block is 1 MiB aligned on 1 MiB, so a piece finds its block by
 * masking its address. The block's first bytes count the pieces alive in
 * it, plus one while it is the pool's current block; at zero it is
 * unmapped. Under the address sanitizer every piece is poisoned when
 * released, so a use after free is still caught. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "nodemem.h"

#if defined(__SANITIZE_ADDRESS__)
#define PG_NODEMEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PG_NODEMEM_ASAN 1
#endif
#endif
#ifdef PG_NODEMEM_ASAN
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(a, s) ((void)(a), (void)(s))
#define ASAN_UNPOISON_MEMORY_REGION(a, s) ((void)(a), (void)(s))
#endif

#define BLOCK_SIZE ((size_t)1024 * 1024)
#define BLOCK_HEADER ((size_t)16)
#define PIECE_MAX (BLOCK_SIZE / 4) /* larger pieces go to malloc */

static size_t *block_count(void *block)
{
	return (size_t *)block;
}

static void block_unref(char *block)
{
	if (__atomic_sub_fetch(block_count(block), 1, __ATOMIC_ACQ_REL) == 0) {
		/* the sanitizer's marks outlive the mapping: clear them, or the
		 * next mapping at this address (a thread's stack) reads as
		 * poisoned */
		ASAN_UNPOISON_MEMORY_REGION(block, BLOCK_SIZE);
		munmap(block, BLOCK_SIZE);
	}
}

/* A fresh aligned block counting the pool's reference, or NULL. */
static char *block_new(void)
{
	char *raw =
	    mmap(NULL, 2 * BLOCK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *block;
	size_t head;

	if (raw == MAP_FAILED)
		return NULL;
	block = (char *)(((uintptr_t)raw + BLOCK_SIZE - 1) & ~(uintptr_t)(BLOCK_SIZE - 1));
	head = (size_t)(block - raw);
	if (head)
		munmap(raw, head);
	munmap(block + BLOCK_SIZE, BLOCK_SIZE - head);
	*block_count(block) = 1;
	ASAN_POISON_MEMORY_REGION(block + BLOCK_HEADER, BLOCK_SIZE - BLOCK_HEADER);
	return block;
}

void *node_pool_alloc(struct node_pool *pool, size_t size)
{
	char *piece;

	size = (size + 7) & ~(size_t)7;
	if (!pool || size == 0 || size > PIECE_MAX)
		return NULL;
	if (!pool->block || pool->used + size > BLOCK_SIZE) {
		char *fresh = block_new();
		if (!fresh)
			return NULL; /* malloc will do */
		if (pool->block)
			block_unref(pool->block);
		pool->block = fresh;
		pool->used = BLOCK_HEADER;
	}
	piece = pool->block + pool->used;
	pool->used += size;
	__atomic_add_fetch(block_count(pool->block), 1, __ATOMIC_RELAXED);
	ASAN_UNPOISON_MEMORY_REGION(piece, size);
	return piece;
}

void node_pool_release(void *piece, size_t size)
{
	char *block = (char *)((uintptr_t)piece & ~(uintptr_t)(BLOCK_SIZE - 1));

	ASAN_POISON_MEMORY_REGION(piece, (size + 7) & ~(size_t)7);
	(void)size;
	block_unref(block);
}

void node_pool_close(struct node_pool *pool)
{
	if (pool->block)
		block_unref(pool->block);
	pool->block = NULL;
	pool->used = 0;
}
