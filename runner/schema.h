/* schema.h - the JSON Schema of the suite format ("phasegate schema"),
 * generated from the loader's key tables and every registered module's keys
 * (plugins loaded before the call are included). */
#ifndef PHASEGATE_SCHEMA_H
#define PHASEGATE_SCHEMA_H

#include <jansson.h>

/* A new reference; the caller json_decref()s it. */
json_t *schema_build(void);
/* The schema as indented JSON text ending in a newline; malloc'd. */
char *schema_render(void);

#endif
