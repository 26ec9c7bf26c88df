/* luasandbox.c - a bounded Lua 5.1 interpreter for Argo CD's resource
 * customization scripts (see luasandbox.h). Argo CD runs them on gopher-lua
 * with the base, table and package libraries and an os library cut down to
 * time() and date(); built-in scripts also get the rest of the standard
 * library. Here nothing that reaches files, processes or the loading of
 * code exists at all, and three limits hold every script: a memory cap in
 * the allocator, an instruction count and a CPU time limit in a count
 * hook, all inside a worker process that is killed if a script has used a
 * second more CPU time than that (stuck inside a C function). */
#include "luasandbox.h"

#include "luagoto.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOOK_EVERY 1000    /* instructions between two limit checks */
#define JSON_MAX_DEPTH 200 /* nesting of values converted either way */
#define KILL_GRACE_MS 1000 /* worker CPU time past the limit before it is killed */
#define WALL_MAX_MS 60000  /* wall time a run may take however busy the machine */

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
	long long deadline;          /* CPU time of the process, ms: a busy machine
	                                does not turn a quick script into a slow one */
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

/* CPU time this process has used (the worker runs one script at a time). */
static long long cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
		else if (cpu_ms() > s->deadline)
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
	s.deadline = cpu_ms() + s.lim.max_ms;
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
			pg_error(e, "the script ran longer than %lld ms (CPU time)", s.lim.max_ms);
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

/* ---- the worker process ----------------------------------------------- */

/* Scripts run in one worker process, started on first use and killed (then
 * started again on the next run) when a script outlives its deadline or the
 * worker dies. Requests and answers are length-prefixed frames on a socket
 * pair; one run at a time. */
static struct {
	pthread_mutex_t lock;
	pid_t pid; /* 0 = not running */
	int fd;    /* the parent's end */
} worker = {PTHREAD_MUTEX_INITIALIZER, 0, -1};

/* A Lua type name as a static string (the worker's pointers do not cross). */
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

/* Writes all of p before the deadline (deadline < 0: none). */
static int send_all(int fd, const void *p, size_t n, long long deadline)
{
	const char *c = p;
	while (n > 0) {
		if (deadline >= 0) {
			long long left = deadline - now_mono_ms();
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			if (left <= 0 || poll(&pf, 1, (int)left) == 0)
				return -1;
		}
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes before the deadline (deadline < 0: none). Returns
 * 0, -1 on end or error, -2 when the deadline passed. */
static int recv_all(int fd, void *p, size_t n, long long deadline)
{
	char *c = p;
	while (n > 0) {
		if (deadline >= 0) {
			long long left = deadline - now_mono_ms();
			struct pollfd pf = {.fd = fd, .events = POLLIN};
			if (left <= 0)
				return -2;
			int pr = poll(&pf, 1, (int)left);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr == 0)
				return -2;
		}
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int send_blob(int fd, const void *p, uint64_t n, long long deadline)
{
	if (send_all(fd, &n, sizeof(n), deadline) != 0)
		return -1;
	return send_all(fd, p, n, deadline);
}

/* A frame of at most max bytes (malloc'd, NUL-terminated). */
static int recv_blob(int fd, char **out, uint64_t *n, uint64_t max, long long deadline)
{
	*out = NULL;
	int rc = recv_all(fd, n, sizeof(*n), deadline);
	if (rc != 0)
		return rc;
	if (*n > max)
		return -1;
	*out = xmalloc(*n + 1);
	rc = recv_all(fd, *out, *n, deadline);
	(*out)[rc == 0 ? *n : 0] = 0;
	return rc;
}

/* The worker: one request after another until the parent goes away. A
 * request is the script, its name, the libraries, the limits and the
 * object as JSON text; the answer {"rtype","result"} or {"error"}. */
static void worker_main(int fd)
{
	for (;;) {
		char *script = NULL, *name = NULL, *objtext = NULL;
		uint64_t slen = 0, nlen = 0, olen = 0;
		uint32_t libs = 0;
		struct luasb_limits lim;
		if (recv_blob(fd, &script, &slen, UINT32_MAX, -1) != 0 ||
		    recv_blob(fd, &name, &nlen, 4096, -1) != 0 ||
		    recv_all(fd, &libs, sizeof(libs), -1) != 0 ||
		    recv_all(fd, &lim, sizeof(lim), -1) != 0 ||
		    recv_blob(fd, &objtext, &olen, UINT32_MAX, -1) != 0)
			_exit(0);
		json_t *obj = olen ? json_loadb(objtext, olen, JSON_DECODE_ANY, NULL) : NULL;
		json_t *r = NULL, *ans;
		const char *rtype = "nil";
		struct pg_err e;
		/* should phasegate be gone, a script stuck in C still ends */
		alarm(WALL_MAX_MS / 1000 + 5);
		int ran =
		    run_here(script, slen, name, obj, (enum luasb_libs)libs, &lim, &r, &rtype, &e);
		alarm(0);
		if (ran != 0)
			ans = json_pack("{s:o}", "error", json_from_bytes(e.msg, strlen(e.msg)));
		else
			ans =
			    json_pack("{s:s, s:o}", "rtype", rtype, "result", r ? r : json_null());
		char *text = ans ? json_dumps(ans, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		if (!text)
			text = xstrdup("{\"error\":\"the script's answer cannot be written\"}");
		if (send_blob(fd, text, strlen(text), -1) != 0)
			_exit(0);
		free(text);
		json_decref(ans);
		json_decref(obj);
		free(script);
		free(name);
		free(objtext);
	}
}

/* Kills the worker; *status (may be NULL) gets how it ended. */
static void worker_stop(int *status)
{
	int st = 0;
	if (worker.pid > 0) {
		close(worker.fd);
		kill(worker.pid, SIGKILL);
		while (waitpid(worker.pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	worker.pid = 0;
	worker.fd = -1;
	if (status)
		*status = st;
}

/* The worker is a fresh image of this program (fork + exec: nothing
 * half-locked by another thread is inherited), told by this variable to
 * serve requests on fd 3 before main() runs. */
#define WORKER_ENV "PHASEGATE_LUA_WORKER_FD"

__attribute__((constructor)) static void worker_entry(void)
{
	const char *v = getenv(WORKER_ENV);
	struct stat st;
	if (!v || strcmp(v, "3") != 0 || fstat(3, &st) != 0 || !S_ISSOCK(st.st_mode))
		return;
	unsetenv(WORKER_ENV);
	signal(SIGALRM, SIG_DFL);
	worker_main(3);
	_exit(0);
}

static int worker_start(struct pg_err *e)
{
	extern char **environ;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return pg_error(e, "cannot run Lua scripts: socketpair: %s", strerror(errno));
	/* fd 3 in the worker; the copy keeps dup2 from being a no-op */
	int wfd = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
	close(sv[1]);
	if (wfd < 0) {
		close(sv[0]);
		return pg_error(e, "cannot run Lua scripts: %s", strerror(errno));
	}
	/* The worker keeps nothing of phasegate's open files (a copy of a
	 * command's output pipe would keep its reader from seeing the end);
	 * standard error stays for the sanitizers. */
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, wfd, 3);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **env = xcalloc(n + 2, sizeof(*env));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], WORKER_ENV "=", sizeof(WORKER_ENV)) != 0)
			env[k++] = environ[i];
	env[k] = WORKER_ENV "=3";
	char *argv[] = {"phasegate-lua-worker", NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	close(wfd);
	if (rc != 0) {
		close(sv[0]);
		return pg_error(e, "cannot start the Lua worker: %s", strerror(rc));
	}
	worker.pid = pid;
	worker.fd = sv[0];
	return 0;
}

/* CPU time the worker has used, ms (-1 when it cannot be read). */
static long long worker_cpu_ms(void)
{
	clockid_t cid;
	struct timespec ts;
	if (clock_getcpuclockid(worker.pid, &cid) != 0 || clock_gettime(cid, &ts) != 0)
		return -1;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the worker's answer to start. A script stuck in a C function
 * keeps the worker busy: past cpu_limit of its CPU time (or the wall
 * deadline) this gives up with -2; -1 when the worker is gone. */
static int await_answer(long long cpu_limit, long long deadline)
{
	for (;;) {
		struct pollfd pf = {.fd = worker.fd, .events = POLLIN};
		int pr = poll(&pf, 1, 100);
		if (pr < 0 && errno != EINTR)
			return -1;
		if (pr > 0)
			return 0;
		long long cpu = worker_cpu_ms();
		if ((cpu >= 0 && cpu > cpu_limit) || now_mono_ms() > deadline)
			return -2;
	}
}

/* Sends one request and reads its answer; -1 with e filled otherwise. */
static int worker_call(const char *script, size_t len, const char *name, json_t *obj,
                       enum luasb_libs libs, const struct luasb_limits *l, json_t **ans,
                       struct pg_err *e)
{
	*ans = NULL;
	if (worker.pid > 0) {
		/* an idle worker never writes: input or a hang-up means it is gone */
		struct pollfd pf = {.fd = worker.fd, .events = POLLIN};
		if (poll(&pf, 1, 0) > 0)
			worker_stop(NULL);
	}
	if (worker.pid <= 0 && worker_start(e) != 0)
		return -1;
	long long deadline = now_mono_ms() + WALL_MAX_MS;
	long long cpu0 = worker_cpu_ms();
	char *objtext = obj ? json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	uint32_t lb = (uint32_t)libs;
	int sent = send_blob(worker.fd, script, len, deadline) == 0 &&
	           send_blob(worker.fd, name, strlen(name), deadline) == 0 &&
	           send_all(worker.fd, &lb, sizeof(lb), deadline) == 0 &&
	           send_all(worker.fd, l, sizeof(*l), deadline) == 0 &&
	           send_blob(worker.fd, objtext ? objtext : "", objtext ? strlen(objtext) : 0,
	                     deadline) == 0;
	free(objtext);
	char *text = NULL;
	uint64_t n = 0;
	int rc = sent ? await_answer(cpu0 + l->max_ms + KILL_GRACE_MS, deadline) : -1;
	if (rc == 0)
		rc = recv_blob(worker.fd, &text, &n, l->max_bytes, deadline);
	if (rc != 0) {
		int status = 0;
		worker_stop(&status);
		free(text);
		if (rc == -2)
			return pg_error(e,
			                "the script was still running after %lld ms of CPU time "
			                "(stuck inside a library function)",
			                l->max_ms + KILL_GRACE_MS);
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
			return pg_error(e, "the Lua interpreter died (signal %d)",
			                WTERMSIG(status));
		return pg_error(e,
		                "the Lua interpreter gave no answer (or one larger than %zu MiB)",
		                l->max_bytes >> 20);
	}
	*ans = json_loadb(text, n, JSON_DECODE_ANY, NULL);
	free(text);
	if (!*ans)
		return pg_error(e, "the Lua interpreter's answer is not JSON");
	return 0;
}

int luasb_run(const char *script, size_t len, const char *name, json_t *obj, enum luasb_libs libs,
              const struct luasb_limits *lim, json_t **result, const char **rtype, struct pg_err *e)
{
	struct luasb_limits l = lim ? *lim : luasb_limits_default();
	*result = NULL;
	*rtype = "nil";
	/* The count hook cannot stop a C function (a pattern match that
	 * backtracks for hours), and a fault in the interpreter must not take
	 * phasegate down: scripts run in the worker process, which is killed
	 * at the deadline. */
	json_t *ans = NULL;
	pthread_mutex_lock(&worker.lock);
	int rc = worker_call(script, len, name, obj, libs, &l, &ans, e);
	pthread_mutex_unlock(&worker.lock);
	if (rc != 0)
		return -1;
	const char *err = json_string_value(json_object_get(ans, "error"));
	if (err) {
		pg_error(e, "%s", err);
		json_decref(ans);
		return -1;
	}
	json_t *r = json_object_get(ans, "result");
	*rtype = type_name(json_string_value(json_object_get(ans, "rtype")));
	*result = json_is_null(r) ? NULL : json_incref(r);
	json_decref(ans);
	return 0;
}

void luasb_shutdown(void)
{
	pthread_mutex_lock(&worker.lock);
	worker_stop(NULL);
	pthread_mutex_unlock(&worker.lock);
}
