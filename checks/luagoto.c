/* luagoto.c - rewrites Lua 5.2's goto-to-the-end-of-a-block into Lua 5.1
 * (see luagoto.h). A small lexer finds the block structure (function, if,
 * do, for, while, repeat ... end/until) and the gotos, labels and breaks in
 * it. A block (or if branch) whose last statement is a label that gotos
 * reach becomes
 *
 *     repeat
 *       ... do break end ...                 (was: goto continue)
 *       ... do pg_brk_N = true break end ... (was: a break of loop N)
 *     until true if pg_brk_N then break end  (was: ::continue::)
 *
 * with "local pg_brk_N = false" opening the body of the loop N around it,
 * which leaves the block exactly as the goto did and passes a break on to
 * its loop. */
#include "luagoto.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 200   /* nested blocks */
#define NAME_MAX_LEN 64 /* label names kept */

enum blk_kind { B_FUNC, B_IF, B_DO, B_LOOP, B_REPEAT };

/* One block of the script. A label is only of use as the last statement of
 * a block (or of a branch of an if), where a goto means "leave the block". */
struct blk {
	enum blk_kind kind;
	int parent;                /* enclosing block, -1 at top level */
	int awaiting_do;           /* for/while before its "do" */
	size_t body;               /* where the current body or branch starts */
	char label[NAME_MAX_LEN];  /* "" = none */
	size_t lab_start, lab_end; /* the label's text */
	size_t lab_body;           /* start of the branch holding the label */
	int at_end;                /* the label ends its block or branch */
	int wrapped;               /* some goto reaches it */
	int flag;                  /* loops: pg_brk_<index> is declared in it */
};

struct jump {
	size_t start, end;
	int blk;                  /* innermost block, -1 at top level */
	char label[NAME_MAX_LEN]; /* gotos; "" for breaks */
};

struct stray_label {
	size_t start, end;
};

struct lx {
	const char *s;
	size_t len, pos;
	int stack[DEPTH_MAX]; /* indices into blks */
	int depth;
	struct blk *blks;
	size_t nblks;
	struct jump *jumps;
	size_t njumps;
	struct stray_label *strays;
	size_t nstrays;
	int just_label; /* block whose label was the last thing read, or -1 */
	int any;        /* a goto or label was seen */
};

static unsigned line_of(const struct lx *x, size_t off)
{
	unsigned line = 1;
	for (size_t i = 0; i < off && i < x->len; i++)
		if (x->s[i] == '\n')
			line++;
	return line;
}

/* Length of "[==[" at p (level in *level), or 0. */
static size_t long_open(const struct lx *x, size_t p, size_t *level)
{
	size_t q = p + 1, n = 0;
	if (p >= x->len || x->s[p] != '[')
		return 0;
	while (q < x->len && x->s[q] == '=')
		q++, n++;
	if (q < x->len && x->s[q] == '[') {
		*level = n;
		return q + 1 - p;
	}
	return 0;
}

/* Skips to just after "]==]" of the given level (or the end). */
static size_t long_close(const struct lx *x, size_t p, size_t level)
{
	for (; p < x->len; p++) {
		if (x->s[p] != ']')
			continue;
		size_t q = p + 1, n = 0;
		while (q < x->len && x->s[q] == '=')
			q++, n++;
		if (n == level && q < x->len && x->s[q] == ']')
			return q + 1;
	}
	return x->len;
}

/* The next token that matters: a name (start/end set, returns 1), "::"
 * (returns 2), anything else (returns 3), the end (returns 0). */
static int next_token(struct lx *x, size_t *start, size_t *end)
{
	for (;;) {
		size_t p = x->pos, level;
		if (p >= x->len)
			return 0;
		unsigned char c = (unsigned char)x->s[p];
		if (isspace(c)) {
			x->pos++;
			continue;
		}
		if (c == '-' && p + 1 < x->len && x->s[p + 1] == '-') {
			size_t lo = long_open(x, p + 2, &level);
			if (lo) {
				x->pos = long_close(x, p + 2 + lo, level);
			} else {
				while (x->pos < x->len && x->s[x->pos] != '\n')
					x->pos++;
			}
			continue;
		}
		*start = p;
		size_t lo = long_open(x, p, &level);
		if (lo) {
			x->pos = *end = long_close(x, p + lo, level);
			return 3;
		}
		if (c == '"' || c == '\'') {
			size_t q = p + 1;
			while (q < x->len && (unsigned char)x->s[q] != c && x->s[q] != '\n')
				q += x->s[q] == '\\' ? 2 : 1;
			x->pos = *end = q < x->len ? q + 1 : x->len;
			return 3;
		}
		if (isalpha(c) || c == '_') {
			size_t q = p;
			while (q < x->len && (isalnum((unsigned char)x->s[q]) || x->s[q] == '_'))
				q++;
			x->pos = *end = q;
			return 1;
		}
		if (isdigit(c) ||
		    (c == '.' && p + 1 < x->len && isdigit((unsigned char)x->s[p + 1]))) {
			size_t q = p;
			while (q < x->len && (isalnum((unsigned char)x->s[q]) || x->s[q] == '.' ||
			                      ((x->s[q] == '+' || x->s[q] == '-') &&
			                       strchr("eEpP", x->s[q - 1]))))
				q++;
			x->pos = *end = q;
			return 3;
		}
		if (c == ':' && p + 1 < x->len && x->s[p + 1] == ':') {
			x->pos = *end = p + 2;
			return 2;
		}
		x->pos = *end = p + 1;
		return 3;
	}
}

static int is_word(const struct lx *x, size_t s, size_t e, const char *w)
{
	return e - s == strlen(w) && memcmp(x->s + s, w, e - s) == 0;
}

static int top(const struct lx *x)
{
	return x->depth ? x->stack[x->depth - 1] : -1;
}

static int push(struct lx *x, enum blk_kind k, size_t body, struct pg_err *e)
{
	if (x->depth >= DEPTH_MAX)
		return pg_error(e, "line %u: blocks nested too deeply", line_of(x, x->pos));
	x->blks = xrealloc(x->blks, (x->nblks + 1) * sizeof(*x->blks));
	struct blk *b = &x->blks[x->nblks];
	memset(b, 0, sizeof(*b));
	b->kind = k;
	b->parent = top(x);
	b->awaiting_do = k == B_LOOP;
	b->body = body;
	x->stack[x->depth++] = (int)x->nblks++;
	return 0;
}

static void add_jump(struct lx *x, size_t s, size_t en, const char *label, size_t llen)
{
	x->jumps = xrealloc(x->jumps, (x->njumps + 1) * sizeof(*x->jumps));
	struct jump *j = &x->jumps[x->njumps++];
	j->start = s;
	j->end = en;
	j->blk = top(x);
	j->label[0] = 0;
	if (label) {
		if (llen >= NAME_MAX_LEN)
			llen = NAME_MAX_LEN - 1;
		memcpy(j->label, label, llen);
		j->label[llen] = 0;
	}
}

/* "::name::" just read its first "::". */
static int on_label(struct lx *x, size_t start, struct pg_err *e)
{
	size_t ns, ne, cs, ce;
	if (next_token(x, &ns, &ne) != 1 || next_token(x, &cs, &ce) != 2)
		return pg_error(e, "line %u: a label is written ::name::", line_of(x, start));
	x->any = 1;
	int t = top(x);
	struct blk *b = t >= 0 ? &x->blks[t] : NULL;
	if (b && !b->label[0] && !b->awaiting_do && b->kind != B_FUNC && b->kind != B_REPEAT &&
	    ne - ns < NAME_MAX_LEN) {
		memcpy(b->label, x->s + ns, ne - ns);
		b->label[ne - ns] = 0;
		b->lab_start = start;
		b->lab_end = ce;
		b->lab_body = b->body;
		x->just_label = t;
		return 0;
	}
	x->strays = xrealloc(x->strays, (x->nstrays + 1) * sizeof(*x->strays));
	x->strays[x->nstrays].start = start;
	x->strays[x->nstrays].end = ce;
	x->nstrays++;
	return 0;
}

static int scan(struct lx *x, struct pg_err *e)
{
	size_t s, en;
	int t;
	while ((t = next_token(x, &s, &en)) != 0) {
		int was_label = x->just_label;
		x->just_label = -1;
		if (t == 2) {
			if (on_label(x, s, e) != 0)
				return -1;
			continue;
		}
		if (t != 1)
			continue;
		int tp = top(x);
		struct blk *b = tp >= 0 ? &x->blks[tp] : NULL;
		if (is_word(x, s, en, "function")) {
			if (push(x, B_FUNC, en, e) != 0)
				return -1;
		} else if (is_word(x, s, en, "if")) {
			if (push(x, B_IF, en, e) != 0)
				return -1;
		} else if (is_word(x, s, en, "for") || is_word(x, s, en, "while")) {
			if (push(x, B_LOOP, en, e) != 0)
				return -1;
		} else if (is_word(x, s, en, "repeat")) {
			if (push(x, B_REPEAT, en, e) != 0)
				return -1;
		} else if (is_word(x, s, en, "do")) {
			if (b && b->kind == B_LOOP && b->awaiting_do) {
				b->awaiting_do = 0;
				b->body = en;
			} else if (push(x, B_DO, en, e) != 0) {
				return -1;
			}
		} else if (is_word(x, s, en, "then") || is_word(x, s, en, "else") ||
		           is_word(x, s, en, "elseif")) {
			if (b && b->kind == B_IF) {
				if (was_label == tp)
					b->at_end = 1; /* the label ends a branch */
				b->body = en;
			}
		} else if (is_word(x, s, en, "end") || is_word(x, s, en, "until")) {
			if (!b)
				return pg_error(e, "line %u: '%.*s' closes no block", line_of(x, s),
				                (int)(en - s), x->s + s);
			if (was_label == tp)
				b->at_end = 1;
			x->depth--;
		} else if (is_word(x, s, en, "goto")) {
			size_t ns, ne;
			x->any = 1;
			if (next_token(x, &ns, &ne) != 1)
				return pg_error(e, "line %u: goto needs a label name",
				                line_of(x, s));
			add_jump(x, s, ne, x->s + ns, ne - ns);
		} else if (is_word(x, s, en, "break")) {
			add_jump(x, s, en, NULL, 0);
		}
	}
	return 0;
}

/* The loop whose body holds block b (b itself when it is a loop), or -1
 * when a function or a repeat comes first. */
static int loop_of(const struct lx *x, int b)
{
	for (; b >= 0; b = x->blks[b].parent) {
		if (x->blks[b].kind == B_LOOP)
			return b;
		if (x->blks[b].kind == B_FUNC || x->blks[b].kind == B_REPEAT)
			return -1;
	}
	return -1;
}

/* The block a goto leaves: the nearest enclosing one ending with its label,
 * reached without leaving a loop or function; -1 when there is none. */
static int goto_target(const struct lx *x, const struct jump *j)
{
	for (int b = j->blk; b >= 0; b = x->blks[b].parent) {
		const struct blk *k = &x->blks[b];
		if (k->at_end && strcmp(k->label, j->label) == 0)
			return b;
		if (k->kind == B_LOOP || k->kind == B_FUNC || k->kind == B_REPEAT)
			return -1;
	}
	return -1;
}

/* Whether a wrapped block lies between block b and stop (exclusive). */
static int wrapped_between(const struct lx *x, int b, int stop)
{
	for (; b >= 0 && b != stop; b = x->blks[b].parent)
		if (x->blks[b].wrapped)
			return 1;
	return 0;
}

struct edit {
	size_t start, end;
	char *text; /* owned */
	int order;  /* among edits at one place: declaration, repeat, the rest */
};

static int cmp_edit(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->order - y->order;
}

int luagoto_rewrite(const char *src, size_t len, char **out, size_t *outlen, struct pg_err *e)
{
	*out = NULL;
	*outlen = 0;
	/* cheap test first: most scripts have neither */
	if (!memmem(src, len, "goto", 4) && !memmem(src, len, "::", 2))
		return 0;
	struct lx x;
	memset(&x, 0, sizeof(x));
	x.s = src;
	x.len = len;
	x.just_label = -1;
	int rc = scan(&x, e);
	if (rc != 0 || !x.any)
		goto lx;
	for (size_t i = 0; i < x.njumps; i++) {
		struct jump *j = &x.jumps[i];
		int t = j->label[0] ? goto_target(&x, j) : 0;
		if (t < 0) {
			rc =
			    pg_error(e,
			             "line %u: goto %s: only a goto to a label that ends the block "
			             "it is in (such as the continue idiom) can run on Lua 5.1",
			             line_of(&x, j->start), j->label);
			goto lx;
		}
		if (j->label[0])
			x.blks[t].wrapped = 1;
	}
	for (size_t i = 0; i < x.njumps; i++) {
		struct jump *j = &x.jumps[i];
		if (j->label[0] && wrapped_between(&x, j->blk, goto_target(&x, j))) {
			rc = pg_error(e, "line %u: goto %s leaves more than one labelled block",
			              line_of(&x, j->start), j->label);
			goto lx;
		}
	}
	struct edit *ed = xcalloc(x.njumps + 3 * x.nblks + x.nstrays + 1, sizeof(*ed));
	size_t ne = 0;
	for (size_t i = 0; i < x.nblks; i++) {
		struct blk *b = &x.blks[i];
		int lp = loop_of(&x, (int)i);
		if (!b->label[0])
			continue;
		if (!b->wrapped) {
			ed[ne++] = (struct edit){b->lab_start, b->lab_end, xstrdup(""), 2};
			continue;
		}
		/* a break inside sets the loop's flag, so each wrapper passes it on */
		if (lp >= 0 && !x.blks[lp].flag) {
			x.blks[lp].flag = 1;
			ed[ne++] = (struct edit){x.blks[lp].body, x.blks[lp].body,
			                         xasprintf(" local pg_brk_%d = false", lp), 0};
		}
		ed[ne++] = (struct edit){b->lab_body, b->lab_body, xstrdup(" repeat"), 1};
		ed[ne++] =
		    (struct edit){b->lab_start, b->lab_end,
		                  lp >= 0 ? xasprintf("until true if pg_brk_%d then break end", lp)
		                          : xstrdup("until true"),
		                  2};
	}
	for (size_t i = 0; i < x.nstrays; i++)
		ed[ne++] = (struct edit){x.strays[i].start, x.strays[i].end, xstrdup(""), 2};
	for (size_t i = 0; i < x.njumps; i++) {
		struct jump *j = &x.jumps[i];
		int lp = j->label[0] ? -1 : loop_of(&x, j->blk);
		if (j->label[0])
			ed[ne++] = (struct edit){j->start, j->end, xstrdup("do break end"), 2};
		else if (lp >= 0 && wrapped_between(&x, j->blk, x.blks[lp].parent))
			ed[ne++] = (struct edit){j->start, j->end,
			                         xasprintf("do pg_brk_%d = true break end", lp), 2};
	}
	qsort(ed, ne, sizeof(*ed), cmp_edit);
	struct buf b;
	buf_init(&b, 0);
	size_t at = 0;
	for (size_t i = 0; i < ne; i++) {
		buf_add(&b, src + at, ed[i].start - at);
		buf_adds(&b, ed[i].text);
		/* a goto and its label may sit on two lines: keep the lines */
		for (size_t k = ed[i].start; k < ed[i].end; k++)
			if (src[k] == '\n')
				buf_addc(&b, '\n');
		at = ed[i].end;
		free(ed[i].text);
	}
	buf_add(&b, src + at, len - at);
	free(ed);
	*outlen = b.len;
	*out = buf_detach(&b);
lx:
	free(x.blks);
	free(x.jumps);
	free(x.strays);
	return rc;
}
