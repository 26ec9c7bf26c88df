/* fuzz_dns_reply.c - libFuzzer harness for the DNS reply parser
 * (dns_reply_facts in checks/dns.c, which reads replies by hand): any bytes
 * a server sends give facts or a reason, never a read past the reply, a
 * loop on compressed names, a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int dns_reply_facts(const unsigned char *abuf, int alen, int qtype, json_t *facts,
                    struct pg_err *e);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte picks the query type, the rest is the reply */
	static const int types[] = {1, 28, 5, 15, 16, 2, 6, 33, 12, 257, 255};
	struct pg_err e;

	if (size < 1 || size > 65536)
		return 0;
	unsigned char *reply =
	    malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees overreads */
	memcpy(reply, data + 1, size - 1);
	json_t *facts = json_object();
	dns_reply_facts(reply, (int)(size - 1), types[data[0] % (sizeof(types) / sizeof(types[0]))],
	                facts, &e);
	json_decref(facts);
	free(reply);
	return 0;
}
