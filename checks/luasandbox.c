/* luasandbox.c - a bounded Lua 5.1 interpreter for Argo CD's resource
 * customization scripts (see luasandbox.h). Argo CD runs them on gopher-lua
 * with the base, table and package libraries and an os library cut down to
 * time() and date(); built-in scripts also get the rest of the standard
 * library. Here nothing that reaches files, processes or the loading of
 * code exists at all, and three limits hold every script: a memory cap in
 * the allocator, an instruction count and a deadline in a count hook, all
 * inside a child process that is killed if the deadline passes anyway. */
#include "luasandbox.h"

#include "luagoto.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOOK_EVERY 1000    /* instructions between two limit checks */
#define JSON_MAX_DEPTH 200 /* nesting of values converted either way */
#define KILL_GRACE_MS 500  /* past the time limit before the child is killed */

struct luasb_limits luasb_limits_default(void)
{
	struct luasb_limits l = {
	    .max_bytes = 64u << 20,
	    .max_instructions = 100000000ull,
	    .max_ms = 1000,
	};
	return l;
}

/* One run: the limits and what the protected part hands back. */
struct sb {
	struct luasb_limits lim;
	size_t used;                 /* bytes the interpreter holds */
	unsigned long long executed; /* instructions, counted per hook call */
	long long deadline;          /* monotonic ms */
	const char *tripped;         /* the limit that stopped the script, or NULL */
	/* inputs of the protected part */
	const char *script;
	size_t len;
	const char *name;
	json_t *obj;
	enum luasb_libs libs;
	/* outputs */
	json_t *result;
	const char *rtype;
	char *error; /* malloc'd */
};

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct sb *s = ud;
	if (nsize == 0) {
		free(ptr);
		s->used -= osize;
		return NULL;
	}
	/* growing past the cap fails (Lua raises "not enough memory");
	 * shrinking never fails, as Lua 5.1 requires */
	if (nsize > osize && s->used - osize + nsize > s->lim.max_bytes) {
		s->tripped = "memory";
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (!p)
		return NULL;
	s->used = s->used - osize + nsize;
	return p;
}

static struct sb *sb_of(lua_State *L)
{
	void *ud = NULL;
	lua_getallocf(L, &ud);
	return ud;
}

/* Once a limit is reached the hook fires on every instruction and raises
 * each time, so a script cannot swallow the error with pcall and go on. */
static void sb_hook(lua_State *L, lua_Debug *ar)
{
	struct sb *s = sb_of(L);
	(void)ar;
	if (!s->tripped) {
		s->executed += HOOK_EVERY;
		if (s->executed > s->lim.max_instructions)
			s->tripped = "instructions";
		else if (now_mono_ms() > s->deadline)
			s->tripped = "time";
	}
	if (s->tripped) {
		lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
		luaL_error(L, "the script was stopped (%s limit)", s->tripped);
	}
}

/* ---- JSON to Lua (Argo CD's decodeValue) ------------------------------ */

/* Objects become tables with string keys and arrays tables indexed from 1;
 * JSON null is nil, so a null member is absent and a null array item is
 * left out (gopher-lua's Append skips nil); every number is a Lua number. */
static void push_json(lua_State *L, json_t *v, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		luaL_error(L, "the object is nested too deeply");
	luaL_checkstack(L, 3, "the object is nested too deeply");
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *item;
		lua_createtable(L, 0, (int)json_object_size(v));
		json_object_foreach(v, k, item)
		{
			if (json_is_null(item))
				continue;
			lua_pushstring(L, k);
			push_json(L, item, depth + 1);
			lua_rawset(L, -3);
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *item;
		int n = 0;
		lua_createtable(L, (int)json_array_size(v), 0);
		json_array_foreach(v, i, item)
		{
			if (json_is_null(item))
				continue;
			push_json(L, item, depth + 1);
			lua_rawseti(L, -2, ++n);
		}
		break;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		lua_pushnumber(L, (lua_Number)json_integer_value(v));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(v));
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	case JSON_NULL:
	default:
		lua_pushnil(L);
		break;
	}
}

/* ---- Lua to JSON (gopher-json's encoder) ------------------------------ */

/* The tables being converted, to refuse cycles. */
struct visit {
	const void *seen[JSON_MAX_DEPTH + 1];
	int n;
};

static int to_json(lua_State *L, int idx, struct visit *vs, json_t **out, char **err);

static json_t *number_json(lua_Number d, char **err)
{
	if (isnan(d) || isinf(d)) {
		*err = xasprintf("json: unsupported value: %s",
		                 isnan(d) ? "NaN" : (d > 0 ? "+Inf" : "-Inf"));
		return NULL;
	}
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		return json_integer((json_int_t)d);
	return json_real(d);
}

/* An empty table is an empty array; keys 1..n (and nothing else) an array;
 * string keys an object; any other mix cannot be encoded. */
static int table_json(lua_State *L, int idx, struct visit *vs, json_t **out, char **err)
{
	const void *p = lua_topointer(L, idx);
	for (int i = 0; i < vs->n; i++)
		if (vs->seen[i] == p) {
			*err = xstrdup("cannot encode recursively nested tables to JSON");
			return -1;
		}
	if (vs->n >= JSON_MAX_DEPTH) {
		*err = xstrdup("cannot encode tables nested this deeply to JSON");
		return -1;
	}
	vs->seen[vs->n++] = p;
	int rc = -1;
	size_t nnum = 0, nstr = 0, nother = 0, maxint = 0;
	int sparse = 0;
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		int kt = lua_type(L, -2);
		if (kt == LUA_TNUMBER) {
			lua_Number k = lua_tonumber(L, -2);
			nnum++;
			if (k < 1 || k != floor(k) || k > (lua_Number)SIZE_MAX / 2)
				sparse = 1;
			else if ((size_t)k > maxint)
				maxint = (size_t)k;
		} else if (kt == LUA_TSTRING) {
			nstr++;
		} else {
			nother++;
		}
		lua_pop(L, 1);
	}
	luaL_checkstack(L, 4, "nested too deeply");
	if (nother || (nnum && nstr)) {
		*err = xstrdup("cannot encode mixed or invalid key types");
		goto visit;
	}
	if (nstr) {
		json_t *o = json_object();
		lua_pushnil(L);
		while (lua_next(L, idx) != 0) {
			size_t kl;
			const char *k = lua_tolstring(L, -2, &kl);
			json_t *v = NULL;
			if (to_json(L, lua_gettop(L), vs, &v, err) != 0) {
				lua_pop(L, 2);
				json_decref(o);
				goto visit;
			}
			json_t *ks = json_from_bytes(k, kl);
			json_object_setn_new_nocheck(o, json_string_value(ks),
			                             json_string_length(ks), v);
			json_decref(ks);
			lua_pop(L, 1);
		}
		*out = o;
		rc = 0;
		goto visit;
	}
	if (sparse || maxint != nnum) {
		*err = xstrdup("cannot encode sparse array");
		goto visit;
	}
	json_t *a = json_array();
	for (size_t i = 1; i <= nnum; i++) {
		json_t *v = NULL;
		lua_rawgeti(L, idx, (int)i);
		if (to_json(L, lua_gettop(L), vs, &v, err) != 0) {
			lua_pop(L, 1);
			json_decref(a);
			goto visit;
		}
		json_array_append_new(a, v);
		lua_pop(L, 1);
	}
	*out = a;
	rc = 0;
visit:
	vs->n--;
	return rc;
}

static int to_json(lua_State *L, int idx, struct visit *vs, json_t **out, char **err)
{
	*out = NULL;
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		*out = json_null();
		return 0;
	case LUA_TBOOLEAN:
		*out = json_boolean(lua_toboolean(L, idx));
		return 0;
	case LUA_TNUMBER:
		*out = number_json(lua_tonumber(L, idx), err);
		return *out ? 0 : -1;
	case LUA_TSTRING: {
		size_t l;
		const char *s = lua_tolstring(L, idx, &l);
		*out = json_from_bytes(s, l);
		return 0;
	}
	case LUA_TTABLE:
		return table_json(L, idx, vs, out, err);
	default:
		*err = xasprintf("cannot encode %s to JSON", luaL_typename(L, idx));
		return -1;
	}
}

/* ---- the library a script sees ---------------------------------------- */

static int sb_print(lua_State *L)
{
	/* Argo CD's print goes to the controller's log; here stdout carries
	 * results, so what a script prints is dropped */
	(void)L;
	return 0;
}

static void open_lib(lua_State *L, const char *name, lua_CFunction f)
{
	lua_pushcfunction(L, f);
	lua_pushstring(L, name);
	lua_call(L, 1, 0);
}

/* The safe os table: os.time and os.date only (Argo CD's oslib_safe). */
static void push_safe_os(lua_State *L)
{
	lua_getglobal(L, "os");
	lua_createtable(L, 0, 2);
	lua_getfield(L, -2, "time");
	lua_setfield(L, -2, "time");
	lua_getfield(L, -2, "date");
	lua_setfield(L, -2, "date");
	lua_remove(L, -2);
}

/* require knows one module, as in Argo CD: the safe os library. */
static int sb_require(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	if (strcmp(name, "os") == 0) {
		lua_pushvalue(L, lua_upvalueindex(1));
		return 1;
	}
	return luaL_error(L, "module '%s' not found (only \"os\" can be required)", name);
}

static void open_sandbox(lua_State *L, enum luasb_libs libs)
{
	static const char *const unsafe_base[] = {"dofile", "loadfile", "load", "loadstring",
	                                          "module", "gcinfo",   NULL};
	open_lib(L, "", luaopen_base); /* also the coroutine table in 5.1 */
	open_lib(L, LUA_TABLIBNAME, luaopen_table);
	open_lib(L, LUA_OSLIBNAME, luaopen_os);
	if (libs == LUASB_LIBS_OPEN) {
		open_lib(L, LUA_STRLIBNAME, luaopen_string);
		open_lib(L, LUA_MATHLIBNAME, luaopen_math);
		/* string.dump is only useful to code loading bytecode */
		lua_getglobal(L, "string");
		lua_pushnil(L);
		lua_setfield(L, -2, "dump");
		lua_pop(L, 1);
	} else {
		lua_pushnil(L);
		lua_setglobal(L, "coroutine");
	}
	for (size_t i = 0; unsafe_base[i]; i++) {
		lua_pushnil(L);
		lua_setglobal(L, unsafe_base[i]);
	}
	lua_pushcfunction(L, sb_print);
	lua_setglobal(L, "print");
	push_safe_os(L);
	lua_pushvalue(L, -1);
	lua_setglobal(L, "os");
	lua_pushcclosure(L, sb_require, 1);
	lua_setglobal(L, "require");
}

/* The protected part: everything that may raise a Lua error. */
static int sb_main(lua_State *L)
{
	struct sb *s = lua_touserdata(L, 1);
	lua_settop(L, 0);
	open_sandbox(L, s->libs);
	if (s->obj)
		push_json(L, s->obj, 0);
	else
		lua_pushnil(L);
	lua_setglobal(L, "obj");
	int base = lua_gettop(L);
	/* precompiled chunks can break the interpreter: text only */
	if (s->len > 0 && s->script[0] == LUA_SIGNATURE[0]) {
		s->error = xstrdup("precompiled Lua chunks are not accepted; give the source");
		return 0;
	}
	/* gopher-lua takes Lua 5.2's goto; its continue idiom is rewritten */
	char *text = NULL;
	size_t tlen = 0;
	struct pg_err ge;
	if (luagoto_rewrite(s->script, s->len, &text, &tlen, &ge) != 0) {
		s->error =
		    xasprintf("%s:%s", s->name[0] == '=' ? s->name + 1 : s->name, ge.msg + 5);
		return 0;
	}
	int loaded = luaL_loadbuffer(L, text ? text : s->script, text ? tlen : s->len, s->name);
	free(text);
	if (loaded != 0 || lua_pcall(L, 0, LUA_MULTRET, 0) != 0) {
		const char *m = lua_tostring(L, -1);
		s->error = m ? xstrdup(m)
		             : xasprintf("(error object is a %s value)", luaL_typename(L, -1));
		return 0;
	}
	/* Argo CD reads the value on top of the stack: the last one returned */
	if (lua_gettop(L) == base) {
		s->rtype = "nil";
		return 0;
	}
	s->rtype = lua_typename(L, lua_type(L, -1));
	if (lua_isnil(L, -1))
		return 0;
	struct visit vs = {.n = 0};
	json_t *r = NULL;
	if (to_json(L, lua_gettop(L), &vs, &r, &s->error) == 0)
		s->result = r;
	return 0;
}

/* Runs the script in this process: the hook and the allocator bound it. */
static int run_here(const char *script, size_t len, const char *name, json_t *obj,
                    enum luasb_libs libs, const struct luasb_limits *lim, json_t **result,
                    const char **rtype, struct pg_err *e)
{
	struct sb s;
	memset(&s, 0, sizeof(s));
	s.lim = *lim;
	s.deadline = now_mono_ms() + s.lim.max_ms;
	s.script = script;
	s.len = len;
	s.name = name;
	s.obj = obj;
	s.libs = libs;
	*result = NULL;
	*rtype = "nil";

	lua_State *L = lua_newstate(sb_alloc, &s);
	if (!L)
		return pg_error(e, "cannot start a Lua interpreter");
	lua_sethook(L, sb_hook, LUA_MASKCOUNT, HOOK_EVERY);
	int st = lua_cpcall(L, sb_main, &s);
	if (st != 0 && !s.error) {
		const char *m = lua_tostring(L, -1);
		s.error = xstrdup(m ? m : "the Lua interpreter failed");
	}
	lua_close(L);

	int rc = 0;
	if (s.tripped) {
		if (strcmp(s.tripped, "memory") == 0)
			pg_error(e, "the script used more than %zu MiB of memory",
			         s.lim.max_bytes >> 20);
		else if (strcmp(s.tripped, "time") == 0)
			pg_error(e, "the script ran longer than %lld ms", s.lim.max_ms);
		else
			pg_error(e, "the script ran more than %llu instructions",
			         s.lim.max_instructions);
		rc = -1;
	} else if (s.error) {
		pg_error(e, "%s", s.error);
		rc = -1;
	}
	if (rc == 0) {
		*result = s.result;
		*rtype = s.rtype ? s.rtype : "nil";
	} else {
		json_decref(s.result);
	}
	free(s.error);
	return rc;
}

/* ---- the child process ------------------------------------------------ */

/* A Lua type name as a static string (the child's pointers do not cross). */
static const char *type_name(const char *t)
{
	static const char *const names[] = {"nil",      "boolean", "number",
	                                    "string",   "table",   "function",
	                                    "userdata", "thread",  "lightuserdata"};
	for (size_t i = 0; t && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(t, names[i]) == 0)
			return names[i];
	return "userdata";
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* In the child: runs the script and writes {"rtype","result"} or {"error"}. */
static void child_main(int fd, const char *script, size_t len, const char *name, json_t *obj,
                       enum luasb_libs libs, const struct luasb_limits *lim)
{
	json_t *r = NULL;
	const char *rtype = "nil";
	struct pg_err e;
	json_t *ans;
	if (run_here(script, len, name, obj, libs, lim, &r, &rtype, &e) != 0)
		ans = json_pack("{s:s}", "error", e.msg);
	else
		ans = json_pack("{s:s, s:o}", "rtype", rtype, "result", r ? r : json_null());
	char *text = ans ? json_dumps(ans, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (text)
		write_all(fd, text, strlen(text));
	_exit(text ? 0 : 1);
}

int luasb_run(const char *script, size_t len, const char *name, json_t *obj, enum luasb_libs libs,
              const struct luasb_limits *lim, json_t **result, const char **rtype, struct pg_err *e)
{
	struct luasb_limits l = lim ? *lim : luasb_limits_default();
	*result = NULL;
	*rtype = "nil";
	/* The count hook cannot stop a C function (a pattern match that
	 * backtracks for hours), and a fault in the interpreter must not take
	 * phasegate down: the script runs in a child process that is killed
	 * at the deadline. */
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return pg_error(e, "cannot run the Lua script: pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return pg_error(e, "cannot run the Lua script: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1], script, len, name, obj, libs, &l);
	}
	close(fds[1]);
	long long deadline = now_mono_ms() + l.max_ms + KILL_GRACE_MS;
	struct buf b;
	buf_init(&b, l.max_bytes);
	int timed_out = 0, too_big = 0;
	char chunk[65536];
	for (;;) {
		long long left = deadline - now_mono_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		int pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf_add(&b, chunk, (size_t)n) != 0) {
			too_big = 1;
			break;
		}
	}
	close(fds[0]);
	if (timed_out || too_big)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int rc = -1;
	json_t *ans = NULL;
	if (timed_out)
		pg_error(e, "the script ran longer than %lld ms", l.max_ms);
	else if (too_big)
		pg_error(e, "the script's answer is larger than %zu MiB", l.max_bytes >> 20);
	else if (WIFSIGNALED(status))
		pg_error(e, "the Lua interpreter died (signal %d)", WTERMSIG(status));
	else if (!(ans = json_loadb(buf_str(&b), b.len, JSON_DECODE_ANY, NULL)))
		pg_error(e, "the Lua interpreter gave no answer");
	else if (json_string_value(json_object_get(ans, "error")))
		pg_error(e, "%s", json_string_value(json_object_get(ans, "error")));
	else
		rc = 0;
	if (rc == 0) {
		json_t *r = json_object_get(ans, "result");
		*rtype = type_name(json_string_value(json_object_get(ans, "rtype")));
		*result = json_is_null(r) ? NULL : json_incref(r);
	}
	json_decref(ans);
	buf_release(&b);
	return rc;
}
