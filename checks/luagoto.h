/* luagoto.h - Lua 5.2's `goto continue` for a Lua 5.1 interpreter.
 * gopher-lua, on which Argo CD runs its scripts, accepts goto and labels;
 * Lua 5.1 does not. Argo CD's scripts use them for one idiom, skipping the
 * rest of a loop body:
 *
 *     for _, c in ipairs(list) do
 *       if c.status ~= "True" then goto continue end
 *       ...
 *       ::continue::
 *     end
 *
 * A goto to a label that ends the block (or if branch) holding it, not
 * leaving a loop or function on the way, is rewritten into Lua 5.1 with the
 * same meaning, on the same lines, so error messages keep their line
 * numbers; any other goto is refused with a clear message. */
#ifndef PHASEGATE_LUAGOTO_H
#define PHASEGATE_LUAGOTO_H

#include <stddef.h>

#include "util.h"

/* Returns 0 and *out = NULL when src has no goto or label (use src as it
 * is), 0 and *out (malloc'd, *outlen bytes) with the rewritten text, or -1
 * with e filled ("line N: ...") for a goto of another shape. */
int luagoto_rewrite(const char *src, size_t len, char **out, size_t *outlen, struct pg_err *e);

#endif
