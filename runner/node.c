/* node.c - the YAML loader: turns one YAML file into a tree of nodes that
 * remember file:line:column, with limits against hostile input (size, depth,
 * node count, alias expansion) and clear messages for every way a file can
 * be wrong. Built on libyaml's event parser with an explicit stack, so the
 * depth of the input never becomes the depth of our C stack. Reading a
 * loaded tree (lookups, scalar readers, JSON) is runner/node_read.c. */
#include "node.h"
#include "nodemem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <yaml.h>

#include "vars.h"

/* ---- interned file names ------------------------------------------------ */

struct intern_entry {
	struct intern_entry *next;
	char name[];
};

static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static struct intern_entry *intern_head;

const char *node_intern(const char *file)
{
	struct intern_entry *e;
	size_t len;

	if (!file)
		return NULL;
	pthread_mutex_lock(&intern_lock);
	for (e = intern_head; e; e = e->next) {
		if (strcmp(e->name, file) == 0)
			goto out;
	}
	len = strlen(file);
	e = xmalloc(sizeof(*e) + len + 1);
	memcpy(e->name, file, len + 1);
	e->next = intern_head;
	intern_head = e;
out:
	pthread_mutex_unlock(&intern_lock);
	return e->name;
}

struct node_limits node_limits_default(void)
{
	struct node_limits l = {
	    .max_file_bytes = 8u * 1024 * 1024,
	    .max_depth = 64,
	    .max_nodes = 500000,
	    .max_alias_nodes = 10000,
	};
	return l;
}

/* ---- building trees ----------------------------------------------------- */

#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(struct node) == 56, "a node and a short text fill one 64-byte chunk");
#endif

/* A zeroed node, from pool when it has room (pool may be NULL). */
static struct node *node_alloc_in(struct node_pool *pool, enum node_kind kind, struct node_pos pos)
{
	struct node *n = node_pool_alloc(pool, sizeof(*n));

	if (n) {
		memset(n, 0, sizeof(*n));
		n->pooled = 1;
	} else {
		n = xcalloc(1, sizeof(*n));
	}
	n->kind = kind;
	n->pos = pos;
	if (pos.file)
		n->pos.file = node_intern(pos.file);
	return n;
}

static struct node *node_alloc(enum node_kind kind, struct node_pos pos)
{
	return node_alloc_in(NULL, kind, pos);
}

/* Sets a scalar's text to a copy of s[0..len): in the node when it fits,
 * else from pool (when it has room) or malloc. The old text is not freed. */
static void scalar_put_in(struct node_pool *pool, struct node *n, const char *s, size_t len)
{
	if (len > UINT_MAX) /* no loaded text is this long (max_file_bytes) */
		abort();
	n->str_pooled = 0;
	if (len < NODE_SSO) {
		memcpy(n->sso, s, len);
		n->sso[len] = 0;
		n->str = n->sso;
	} else if ((n->str = node_pool_alloc(pool, len + 1)) != NULL) {
		memcpy(n->str, s, len);
		n->str[len] = 0;
		n->str_pooled = 1;
	} else {
		n->str = xstrndup(s, len);
	}
	n->len = (unsigned)len;
}

static void scalar_put(struct node *n, const char *s, size_t len)
{
	scalar_put_in(NULL, n, s, len);
}

/* Frees a scalar's long text, wherever it lives. */
static void str_free(struct node *n)
{
	if (n->str == n->sso || !n->str)
		return;
	if (n->str_pooled)
		node_pool_release(n->str, (size_t)n->len + 1);
	else
		free(n->str);
	n->str_pooled = 0;
}

static struct node *node_new_scalar_in(struct node_pool *pool, const char *s, size_t len, int plain,
                                       struct node_pos pos)
{
	struct node *n = node_alloc_in(pool, NODE_SCALAR, pos);

	scalar_put_in(pool, n, s ? s : "", s ? len : 0);
	n->plain = plain ? 1 : 0;
	return n;
}

static struct node *node_new_scalar_len(const char *s, size_t len, int plain, struct node_pos pos)
{
	return node_new_scalar_in(NULL, s, len, plain, pos);
}

void node_set_str(struct node *n, char *s)
{
	size_t len = strlen(s);

	str_free(n);
	if (len < NODE_SSO) {
		scalar_put(n, s, len);
		free(s);
		return;
	}
	if (len > UINT_MAX)
		abort();
	n->str = s;
	n->len = (unsigned)len;
}

struct node *node_new_scalar(const char *s, int plain, struct node_pos pos)
{
	return node_new_scalar_len(s, s ? strlen(s) : 0, plain, pos);
}

struct node *node_new_seq(struct node_pos pos)
{
	return node_alloc(NODE_SEQ, pos);
}

struct node *node_new_map(struct node_pos pos)
{
	return node_alloc(NODE_MAP, pos);
}

/* The size of a collection's items or pairs array. The capacity is
 * implicit: 1, then doubling, so it is full exactly when n is 0 or a power
 * of two (most maps of a suite hold one to three pairs). */
static size_t coll_bytes(const struct node *c, size_t n)
{
	size_t cap = 1;

	if (!n)
		return 0;
	while (cap < n)
		cap *= 2;
	return cap * (c->kind == NODE_SEQ ? sizeof(*c->items) : sizeof(*c->pairs));
}

static void *coll_array(const struct node *c)
{
	return c->kind == NODE_SEQ ? (void *)c->items : (void *)c->pairs;
}

/* Frees a collection's array, wherever it lives. */
static void coll_free(struct node *c)
{
	void *a = coll_array(c);

	if (a && c->arr_pooled)
		node_pool_release(a, coll_bytes(c, c->n));
	else
		free(a);
	c->arr_pooled = 0;
}

/* Grows the array of a collection so one more fits, from pool when it has
 * room (pool may be NULL). */
static void coll_reserve_in(struct node_pool *pool, struct node *c)
{
	size_t old, need;
	void *a;

	if (c->n != 0 && (c->n & (c->n - 1)) != 0)
		return;
	old = coll_bytes(c, c->n);
	need = coll_bytes(c, c->n + 1);
	if (!c->arr_pooled && !(pool && c->n == 0)) {
		a = xrealloc(coll_array(c), need);
	} else if ((a = node_pool_alloc(pool, need)) != NULL) {
		if (old)
			memcpy(a, coll_array(c), old);
		if (c->arr_pooled)
			node_pool_release(coll_array(c), old);
		c->arr_pooled = 1;
	} else {
		a = xmalloc(need);
		if (old)
			memcpy(a, coll_array(c), old);
		coll_free(c);
	}
	if (c->kind == NODE_SEQ)
		c->items = a;
	else
		c->pairs = a;
}

static void seq_push_in(struct node_pool *pool, struct node *seq, struct node *item)
{
	coll_reserve_in(pool, seq);
	seq->items[seq->n++] = item;
}

void node_seq_push(struct node *seq, struct node *item)
{
	if (!seq || seq->kind != NODE_SEQ) {
		node_free(item);
		return;
	}
	seq_push_in(NULL, seq, item);
}

static void map_push_pair_in(struct node_pool *pool, struct node *map, struct node *key,
                             struct node *value)
{
	coll_reserve_in(pool, map);
	map->pairs[map->n].key = key;
	map->pairs[map->n].value = value;
	map->n++;
}

static void map_push_pair(struct node *map, struct node *key, struct node *value)
{
	map_push_pair_in(NULL, map, key, value);
}

void node_map_put(struct node *map, const char *key, struct node *value)
{
	size_t i;

	if (!map || map->kind != NODE_MAP || !key) {
		node_free(value);
		return;
	}
	for (i = 0; i < map->n; i++) {
		struct node *k = map->pairs[i].key;
		if (k && k->kind == NODE_SCALAR && strcmp(k->str, key) == 0) {
			node_free(map->pairs[i].value);
			map->pairs[i].value = value;
			return;
		}
	}
	map_push_pair(map, node_new_scalar(key, 1, value ? value->pos : map->pos), value);
}

/* Frees what n holds (its string, items or pairs), not n itself.
 * Recursion here follows the depth of the tree, which the loader bounds by
 * max_depth; trees built by code are small. */
static void contents_free(struct node *n)
{
	size_t i;

	switch (n->kind) {
	case NODE_SCALAR:
		str_free(n);
		break;
	case NODE_SEQ:
		for (i = 0; i < n->n; i++)
			node_free(n->items[i]);
		coll_free(n);
		break;
	case NODE_MAP:
		for (i = 0; i < n->n; i++) {
			node_free(n->pairs[i].key);
			node_free(n->pairs[i].value);
		}
		coll_free(n);
		break;
	}
}

void node_free(struct node *n)
{
	if (!n)
		return;
	contents_free(n);
	if (n->pooled)
		node_pool_release(n, sizeof(*n));
	else
		free(n);
}

void node_seq_drop(struct node *seq, size_t i)
{
	if (!seq || seq->kind != NODE_SEQ || i >= seq->n)
		return;
	node_free(seq->items[i]);
	seq->items[i] = NULL;
}

struct node *node_copy(const struct node *n)
{
	struct node *c;
	size_t i;

	if (!n)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->kind = n->kind;
	c->pos = n->pos;
	switch (n->kind) {
	case NODE_SCALAR:
		scalar_put(c, n->str ? n->str : "", n->str ? n->len : 0);
		c->plain = n->plain;
		c->expanded = n->expanded;
		break;
	case NODE_SEQ:
		for (i = 0; i < n->n; i++)
			node_seq_push(c, node_copy(n->items[i]));
		break;
	case NODE_MAP:
		for (i = 0; i < n->n; i++)
			map_push_pair(c, node_copy(n->pairs[i].key), node_copy(n->pairs[i].value));
		break;
	}
	return c;
}

/* ---- the loader --------------------------------------------------------- */

struct anchor {
	char *name;        /* owned */
	struct node *node; /* borrowed: lives in the tree being built */
	size_t count;      /* nodes in the anchored subtree */
	size_t next;       /* 1 + index of the next anchor in its hash chain, 0 = end */
	unsigned height;   /* collection levels in it */
};

/* One open collection. */
struct frame {
	struct node *node;
	char *anchor;       /* owned, registered when the collection ends */
	size_t first_count; /* nodes created before this collection */
	unsigned height;    /* deepest collection level seen below, plus one */
};

struct loader {
	const char *file; /* interned */
	const char *text;
	size_t len;
	const struct node_limits *lim;
	struct diags *d;
	struct node *root;   /* owned until handed out */
	struct frame *stack; /* open collections */
	size_t depth, stack_alloc;
	struct anchor *anchors;
	size_t nanchors, anchors_alloc;
	size_t *buckets;    /* 1 + index of a chain's first anchor, 0 = empty */
	size_t nbuckets;    /* a power of two */
	size_t count;       /* nodes created */
	size_t alias_count; /* nodes created by alias copies */
	int failed;
	struct node_pool pool; /* where the tree's nodes, texts and arrays go */
};

static struct node_pos mark_pos(const struct loader *L, yaml_mark_t m)
{
	struct node_pos p = {L->file, (unsigned)m.line + 1, (unsigned)m.column + 1};
	return p;
}

static void pos_of_offset(const struct loader *L, size_t off, unsigned *line, unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < L->len; i++) {
		unsigned char c = (unsigned char)L->text[i];
		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* Checks the raw bytes before libyaml sees them, to name the first NUL or
 * invalid UTF-8 sequence precisely. */
static int precheck_bytes(struct loader *L)
{
	const unsigned char *s = (const unsigned char *)L->text;
	size_t i = 0, len = L->len;
	unsigned line, col;

	/* UTF-16/32 byte order marks: we only read UTF-8 */
	if (len >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
		return diag_pos(L->d, L->file, 1, 1,
		                "the file is UTF-16 encoded; save it as UTF-8");
	while (i < len) {
		unsigned char c = s[i];
		size_t need;

		if (c == 0) {
			pos_of_offset(L, i, &line, &col);
			return diag_pos(L->d, L->file, line, col,
			                "binary data: NUL bytes are not allowed in a YAML file");
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		need = utf8_decode(s + i, len - i, NULL);
		if (!need)
			goto bad;
		i += need;
	}
	return 0;
bad:
	pos_of_offset(L, i, &line, &col);
	return diag_pos(L->d, L->file, line, col,
	                "invalid UTF-8 (byte 0x%02X); the file must be UTF-8 text", s[i]);
}

/* Turns libyaml's error into a diagnostic. */
static void parse_error(struct loader *L, yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	unsigned line, col;

	if (p->error == YAML_READER_ERROR) {
		pos_of_offset(L, p->problem_offset, &line, &col);
		if (strstr(problem, "UTF-8") || strstr(problem, "UTF-16"))
			diag_pos(L->d, L->file, line, col, "invalid UTF-8 (%s)", problem);
		else if (strstr(problem, "control characters"))
			diag_pos(L->d, L->file, line, col,
			         "binary data: control characters are not allowed in a YAML file");
		else
			diag_pos(L->d, L->file, line, col, "%s", problem);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		diag_pos(L->d, L->file, 0, 0, "out of memory while parsing");
		return;
	}
	line = (unsigned)p->problem_mark.line + 1;
	col = (unsigned)p->problem_mark.column + 1;
	if (strstr(problem, "tab") ||
	    (strstr(problem, "cannot start any token") && p->problem_mark.index < L->len &&
	     L->text[p->problem_mark.index] == '\t')) {
		diag_pos(L->d, L->file, line, col,
		         "tab characters are not allowed for indentation; use spaces");
		return;
	}
	if (p->context)
		diag_pos(L->d, L->file, line, col, "YAML syntax error: %s (%s started at line %u)",
		         problem, p->context, (unsigned)p->context_mark.line + 1);
	else
		diag_pos(L->d, L->file, line, col, "YAML syntax error: %s", problem);
}

static int fail(struct loader *L)
{
	L->failed = 1;
	return -1;
}

static size_t anchor_hash(const char *name)
{
	size_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

/* Anchors are hashed: a file may define many anchors and alias them many
 * times, and a lookup must not scan them all. */
static struct anchor *find_anchor(struct loader *L, const char *name)
{
	size_t i;

	if (!L->nbuckets)
		return NULL;
	/* chains hold the latest definition first (YAML allows redefining) */
	for (i = L->buckets[anchor_hash(name) & (L->nbuckets - 1)]; i; i = L->anchors[i - 1].next) {
		if (strcmp(L->anchors[i - 1].name, name) == 0)
			return &L->anchors[i - 1];
	}
	return NULL;
}

static void anchors_rehash(struct loader *L, size_t nbuckets)
{
	size_t i, b;

	free(L->buckets);
	L->buckets = xcalloc(nbuckets, sizeof(*L->buckets));
	L->nbuckets = nbuckets;
	/* in definition order, so later definitions end up first */
	for (i = 0; i < L->nanchors; i++) {
		b = anchor_hash(L->anchors[i].name) & (nbuckets - 1);
		L->anchors[i].next = L->buckets[b];
		L->buckets[b] = i + 1;
	}
}

/* Takes name. */
static void add_anchor(struct loader *L, char *name, struct node *n, size_t count, unsigned height)
{
	struct anchor *a;
	size_t b;

	if (L->nanchors == L->anchors_alloc) {
		L->anchors_alloc = L->anchors_alloc ? L->anchors_alloc * 2 : 8;
		L->anchors = xrealloc(L->anchors, L->anchors_alloc * sizeof(*L->anchors));
	}
	a = &L->anchors[L->nanchors++];
	a->name = name;
	a->node = n;
	a->count = count;
	a->height = height;
	if (L->nanchors > L->nbuckets) {
		anchors_rehash(L, L->nbuckets ? L->nbuckets * 2 : 64);
		return;
	}
	b = anchor_hash(name) & (L->nbuckets - 1);
	a->next = L->buckets[b];
	L->buckets[b] = L->nanchors;
}

static int count_node(struct loader *L, struct node_pos pos)
{
	if (L->count >= L->lim->max_nodes) {
		diag_pos(L->d, pos.file, pos.line, pos.col,
		         "too many nodes in one file (the limit is %zu)", L->lim->max_nodes);
		return fail(L);
	}
	L->count++;
	return 0;
}

/* Puts a finished (or just opened) node into its parent. */
static int attach(struct loader *L, struct node *n)
{
	struct node *parent;

	if (L->depth == 0) {
		L->root = n;
		return 0;
	}
	parent = L->stack[L->depth - 1].node;
	if (parent->kind == NODE_SEQ) {
		seq_push_in(&L->pool, parent, n);
		return 0;
	}
	/* a map: either a key (then the value is still missing) or a value */
	if (parent->n > 0 && parent->pairs[parent->n - 1].value == NULL) {
		parent->pairs[parent->n - 1].value = n;
		return 0;
	}
	map_push_pair_in(&L->pool, parent, n, NULL);
	if (n->kind != NODE_SCALAR) {
		diag_pos(L->d, n->pos.file, n->pos.line, n->pos.col, "a key must be text, not a %s",
		         node_kind_name(n));
		return fail(L);
	}
	if (n->plain && strcmp(n->str, "<<") == 0) {
		diag_pos(L->d, n->pos.file, n->pos.line, n->pos.col,
		         "merge keys ('<<') are not supported; repeat the keys or use variables");
		return fail(L);
	}
	return 0;
}

/* A value that closes a map entry also bumps the frame height. */
static void note_height(struct loader *L, unsigned h)
{
	if (L->depth > 0 && L->stack[L->depth - 1].height < h + 1)
		L->stack[L->depth - 1].height = h + 1;
}

static int on_scalar(struct loader *L, yaml_event_t *ev)
{
	struct node_pos pos = mark_pos(L, ev->start_mark);
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct node *n;

	if (memchr(v, 0, len)) {
		diag_pos(L->d, pos.file, pos.line, pos.col,
		         "a NUL character (\\0) is not allowed in text");
		return fail(L);
	}
	if (count_node(L, pos) < 0)
		return -1;
	/* "!!str 123" is text, like a quoted scalar; other tags are ignored */
	n = node_new_scalar_in(&L->pool, v, len,
	                       ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	                           !(ev->data.scalar.tag &&
	                             strcmp((const char *)ev->data.scalar.tag, YAML_STR_TAG) == 0),
	                       pos);
	if (attach(L, n) < 0)
		return -1;
	note_height(L, 0);
	if (ev->data.scalar.anchor)
		add_anchor(L, xstrdup((const char *)ev->data.scalar.anchor), n, 1, 0);
	return 0;
}

static int on_start(struct loader *L, yaml_event_t *ev, enum node_kind kind)
{
	struct node_pos pos = mark_pos(L, ev->start_mark);
	const yaml_char_t *anchor =
	    kind == NODE_SEQ ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
	struct node *n;
	struct frame *f;

	if (L->depth >= L->lim->max_depth) {
		diag_pos(L->d, pos.file, pos.line, pos.col,
		         "nesting is too deep (the limit is %u levels)", L->lim->max_depth);
		return fail(L);
	}
	if (count_node(L, pos) < 0)
		return -1;
	n = node_alloc_in(&L->pool, kind, pos);
	if (attach(L, n) < 0)
		return -1;
	if (L->depth == L->stack_alloc) {
		L->stack_alloc = L->stack_alloc ? L->stack_alloc * 2 : 16;
		L->stack = xrealloc(L->stack, L->stack_alloc * sizeof(*L->stack));
	}
	f = &L->stack[L->depth++];
	f->node = n;
	f->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
	f->first_count = L->count - 1;
	f->height = 1;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct node_pair *pa = *(const struct node_pair *const *)a;
	const struct node_pair *pb = *(const struct node_pair *const *)b;
	int c = strcmp(pa->key->str, pb->key->str);

	if (c)
		return c;
	return pa < pb ? -1 : pa > pb;
}

/* Duplicate keys, found by sorting so a huge map stays cheap. */
static int check_duplicates(struct loader *L, struct node *map)
{
	struct node_pair **v;
	size_t i;
	int rc = 0;

	if (map->n < 2 || L->lim->duplicate_keys_last_wins)
		return 0;
	v = xmalloc(map->n * sizeof(*v));
	for (i = 0; i < map->n; i++)
		v[i] = &map->pairs[i];
	qsort(v, map->n, sizeof(*v), key_cmp);
	for (i = 1; i < map->n; i++) {
		if (strcmp(v[i - 1]->key->str, v[i]->key->str) == 0) {
			struct node *k = v[i]->key;
			char *name = node_value_for_msg(k);
			diag_pos(L->d, k->pos.file, k->pos.line, k->pos.col,
			         "duplicate key '%s' (first at line %u)", name,
			         v[i - 1]->key->pos.line);
			free(name);
			rc = fail(L);
			/* skip the rest of this run of equal keys */
			while (i + 1 < map->n && strcmp(v[i]->key->str, v[i + 1]->key->str) == 0)
				i++;
		}
	}
	free(v);
	return rc;
}

static int on_end(struct loader *L)
{
	struct frame f;

	if (L->depth == 0)
		return 0;
	f = L->stack[--L->depth];
	if (f.node->kind == NODE_MAP && check_duplicates(L, f.node) < 0) {
		free(f.anchor);
		return -1;
	}
	note_height(L, f.height);
	if (f.anchor)
		add_anchor(L, f.anchor, f.node, L->count - f.first_count, f.height);
	return 0;
}

static int on_alias(struct loader *L, yaml_event_t *ev)
{
	struct node_pos pos = mark_pos(L, ev->start_mark);
	const char *name = (const char *)ev->data.alias.anchor;
	struct anchor *a = find_anchor(L, name);
	struct node *n;

	if (!a) {
		diag_pos(L->d, pos.file, pos.line, pos.col,
		         "undefined alias '*%s' (no anchor '&%s' before it)", name, name);
		return fail(L);
	}
	/* the budgets are checked before copying, so an alias bomb costs
	 * nothing: each anchor knows the size of its subtree */
	if (a->count > L->lim->max_alias_nodes - L->alias_count ||
	    L->alias_count > L->lim->max_alias_nodes) {
		diag_pos(
		    L->d, pos.file, pos.line, pos.col,
		    "aliases expand to too many nodes (the limit is %zu); is this an alias bomb?",
		    L->lim->max_alias_nodes);
		return fail(L);
	}
	if (a->count > L->lim->max_nodes - L->count) {
		diag_pos(L->d, pos.file, pos.line, pos.col,
		         "too many nodes in one file (the limit is %zu)", L->lim->max_nodes);
		return fail(L);
	}
	if (L->depth + a->height > L->lim->max_depth) {
		diag_pos(L->d, pos.file, pos.line, pos.col,
		         "nesting is too deep (the limit is %u levels)", L->lim->max_depth);
		return fail(L);
	}
	L->alias_count += a->count;
	L->count += a->count;
	n = node_copy(a->node);
	if (attach(L, n) < 0)
		return -1;
	note_height(L, a->height);
	return 0;
}

static void loader_release(struct loader *L)
{
	size_t i;

	for (i = 0; i < L->depth; i++)
		free(L->stack[i].anchor);
	free(L->stack);
	for (i = 0; i < L->nanchors; i++)
		free(L->anchors[i].name);
	free(L->anchors);
	free(L->buckets);
	node_free(L->root);
	L->root = NULL;
	node_pool_close(&L->pool);
}

/* Anchors name nodes within one document only. */
static void anchors_forget(struct loader *L)
{
	for (size_t i = 0; i < L->nanchors; i++)
		free(L->anchors[i].name);
	L->nanchors = 0;
	if (L->nbuckets)
		memset(L->buckets, 0, L->nbuckets * sizeof(*L->buckets));
}

/* Loads text; with stream set, every non-empty document is pushed onto
 * stream (a NODE_SEQ) and *out is not used. */
static int load_text(const char *name, const char *text, size_t len, const struct node_limits *lim,
                     struct node *stream, struct node **out, struct diags *d)
{
	struct node_limits deflim = node_limits_default();
	struct loader L;
	yaml_parser_t parser;
	yaml_event_t ev;
	int done = 0, docs = 0, rc = -1;

	if (out)
		*out = NULL;
	memset(&L, 0, sizeof(L));
	L.file = node_intern(name ? name : "<string>");
	L.text = text ? text : "";
	L.len = text ? len : 0;
	L.lim = lim ? lim : &deflim;
	L.d = d;
	if (L.len > L.lim->max_file_bytes)
		return diag_pos(d, L.file, 0, 0, "file is too large (%zu bytes; the limit is %zu)",
		                L.len, L.lim->max_file_bytes);
	if (precheck_bytes(&L) < 0)
		return -1;
	if (!yaml_parser_initialize(&parser))
		return diag_pos(d, L.file, 0, 0, "cannot initialise the YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)L.text, L.len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parse_error(&L, &parser);
			goto parser;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (stream && L.root) {
				/* an empty document (nothing but "---") holds nothing */
				if (L.root->kind == NODE_SCALAR && L.root->plain &&
				    L.root->len == 0)
					node_free(L.root);
				else
					node_seq_push(stream, L.root);
				L.root = NULL;
			}
			if (stream)
				anchors_forget(&L);
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1 && !stream) {
				struct node_pos p = mark_pos(&L, ev.start_mark);
				diag_pos(d, p.file, p.line, p.col,
				         "more than one YAML document in one file (a second '---' "
				         "starts here)");
				fail(&L);
			}
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&L, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_start(&L, &ev, NODE_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			on_start(&L, &ev, NODE_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(&L);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(&L, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (L.failed)
			goto parser;
	}
	if (stream) {
		rc = 0;
		goto parser;
	}
	if (!L.root) {
		diag_pos(d, L.file, 0, 0, "file is empty (no YAML document in it)");
		goto parser;
	}
	*out = L.root;
	L.root = NULL;
	rc = 0;
parser:
	yaml_parser_delete(&parser);
	loader_release(&L);
	return rc;
}

int node_load_string(const char *name, const char *text, size_t len, const struct node_limits *lim,
                     struct node **out, struct diags *d)
{
	return load_text(name, text, len, lim, NULL, out, d);
}

int node_load_stream(const char *name, const char *text, size_t len, const struct node_limits *lim,
                     struct node **out, struct diags *d)
{
	struct node_pos pos = {node_intern(name ? name : "<string>"), 1, 1};
	struct node *seq = node_new_seq(pos);
	*out = NULL;
	if (load_text(name, text, len, lim, seq, NULL, d) != 0) {
		node_free(seq);
		return -1;
	}
	*out = seq;
	return 0;
}

static int load_file(const char *path, const struct node_limits *lim, struct node *stream,
                     struct node **out, struct diags *d)
{
	struct node_limits deflim = node_limits_default();
	struct stat st;
	struct buf b;
	struct pg_err e;
	char chunk[65536];
	int fd, rc = -1;

	if (out)
		*out = NULL;
	if (!lim)
		lim = &deflim;
	fd = open_regular(path, &e);
	if (fd < 0)
		return diag_pos(d, NULL, 0, 0, "%s", e.msg);
	/* the size is checked before reading, so a huge file costs nothing */
	if (fstat(fd, &st) < 0) {
		diag_pos(d, NULL, 0, 0, "cannot read '%s': %s", path, strerror(errno));
		goto fd;
	}
	if ((unsigned long long)st.st_size > lim->max_file_bytes) {
		diag_pos(d, path, 0, 0, "file is too large (%lld bytes; the limit is %zu)",
		         (long long)st.st_size, lim->max_file_bytes);
		goto fd;
	}
	buf_init(&b, 0);
	buf_reserve(&b, (size_t)st.st_size);
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_pos(d, NULL, 0, 0, "cannot read '%s': %s", path, strerror(errno));
			goto data;
		}
		if (r == 0)
			break;
		/* the file may have grown since fstat */
		if (b.len + (size_t)r > lim->max_file_bytes) {
			diag_pos(d, path, 0, 0, "file is too large (the limit is %zu bytes)",
			         lim->max_file_bytes);
			goto data;
		}
		buf_add(&b, chunk, (size_t)r);
	}
	rc = load_text(path, b.data ? b.data : "", b.len, lim, stream, out, d);
data:
	buf_release(&b);
fd:
	close(fd);
	return rc;
}

int node_load_file(const char *path, const struct node_limits *lim, struct node **out,
                   struct diags *d)
{
	return load_file(path, lim, NULL, out, d);
}

int node_load_file_stream(const char *path, const struct node_limits *lim, struct node **out,
                          struct diags *d)
{
	struct node_pos pos = {node_intern(path), 1, 1};
	struct node *seq = node_new_seq(pos);
	*out = NULL;
	if (load_file(path, lim, seq, NULL, d) != 0) {
		node_free(seq);
		return -1;
	}
	*out = seq;
	return 0;
}
