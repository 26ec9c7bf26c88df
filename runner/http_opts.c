/* http_opts.c - the auth: and tls: keys that every module talking HTTP
 * accepts, checked and read in one place at load time so they mean the same
 * everywhere; credentials are registered with the masker as they are read. */
#include <stdlib.h>
#include <string.h>

#include "http_int.h"
#include "keys.h"
#include "vars.h"

const struct key_spec http_auth_keys[] = {
    {"bearer", KT_STR, 0, "a token sent as Authorization: Bearer (use ${secrets.name})"},
    {"basic", KT_MAP, 0, "{username, password} sent as Authorization: Basic"},
    {NULL, KT_ANY, 0, NULL},
};

static const struct key_spec http_basic_keys[] = {
    {"username", KT_STR, KEY_REQUIRED, "user name"},
    {"password", KT_STR, KEY_REQUIRED, "password (use ${secrets.name})"},
    {NULL, KT_ANY, 0, NULL},
};

const struct key_spec http_tls_keys[] = {
    {"ca", KT_STR, 0, "PEM file of the CA(s) to trust instead of the system bundle"},
    {"cert", KT_STR, 0, "client certificate (PEM file)"},
    {"key", KT_STR, 0, "client key (PEM file)"},
    {"server_name", KT_STR, 0, "name to verify the certificate against (and send as SNI)"},
    {"insecure", KT_BOOL, 0, "skip certificate verification (the reports say so)"},
    {NULL, KT_ANY, 0, NULL},
};

int http_opts_auth(const struct node *auth, const char *what, char **header, struct diags *d)
{
	*header = NULL;
	char *label = xasprintf("%s auth", what);
	int rc = -1;
	if (keys_validate(auth, http_auth_keys, label, d))
		goto out;
	const struct node *bearer = cfg_node(auth, "bearer");
	const struct node *basic = cfg_node(auth, "basic");
	if (!!bearer == !!basic) {
		diag_at(d, auth, "%s: give exactly one of bearer: or basic:", label);
		goto out;
	}
	if (bearer) {
		const char *tok = cfg_str(auth, "bearer", "");
		if (strpbrk(tok, "\r\n")) {
			diag_at(d, bearer, "%s bearer: the token holds a line break", label);
			goto out;
		}
		if (mask_register(tok) < 0) {
			diag_at(d, bearer, "%s bearer: the token is shorter than %d characters",
			        label, MASK_MIN_LEN);
			goto out;
		}
		*header = xasprintf("Authorization: Bearer %s", tok);
		rc = 0;
		goto out;
	}
	char *blabel = xasprintf("%s basic", label);
	int bad = keys_validate(basic, http_basic_keys, blabel, d);
	free(blabel);
	if (bad)
		goto out;
	const char *user = cfg_str(basic, "username", "");
	const char *pass = cfg_str(basic, "password", "");
	if (strchr(user, ':')) {
		diag_at(d, cfg_node(basic, "username"), "%s basic: the username holds a ':'",
		        label);
		goto out;
	}
	if (mask_register_pair(user, pass) < 0) {
		diag_at(d, cfg_node(basic, "password") ? cfg_node(basic, "password") : basic,
		        "%s basic: the password is shorter than %d characters", label,
		        MASK_MIN_LEN);
		goto out;
	}
	char *pair = xasprintf("%s:%s", user, pass);
	char *enc = base64_encode(pair, strlen(pair));
	*header = xasprintf("Authorization: Basic %s", enc);
	free(enc);
	free(pair);
	rc = 0;
out:
	free(label);
	return rc;
}

int http_opts_tls(const struct node *tls, const char *what, struct http_tls_opts *o,
                  struct diags *d)
{
	memset(o, 0, sizeof(*o));
	char *label = xasprintf("%s tls", what);
	int rc = keys_validate(tls, http_tls_keys, label, d) ? -1 : 0;
	if (rc == 0) {
		o->ca = xstrdup(cfg_str(tls, "ca", NULL));
		o->cert = xstrdup(cfg_str(tls, "cert", NULL));
		o->key = xstrdup(cfg_str(tls, "key", NULL));
		o->server_name = xstrdup(cfg_str(tls, "server_name", NULL));
		o->insecure = cfg_bool(tls, "insecure", 0);
		if (!!cfg_node(tls, "cert") != !!cfg_node(tls, "key"))
			rc = diag_at(d, tls, "%s: cert and key go together (give both)", label);
	}
	free(label);
	if (rc)
		http_tls_opts_release(o);
	return rc;
}

void http_tls_opts_release(struct http_tls_opts *o)
{
	free(o->ca);
	free(o->cert);
	free(o->key);
	free(o->server_name);
	memset(o, 0, sizeof(*o));
}
