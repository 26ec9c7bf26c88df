/* health_cmd.h - `phasegate health`: Argo CD's health verdict for every
 * Kubernetes object in YAML files, offline. */
#ifndef PHASEGATE_HEALTH_CMD_H
#define PHASEGATE_HEALTH_CMD_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

/* Reads every file (multi-document YAML; kind: List is unpacked) and writes
 * one JSON line per object to out: {"apiVersion","kind","name","namespace",
 * "status","message"}. dir (may be NULL) is a resource_customizations
 * directory of Lua health checks. Files that cannot be read or hold
 * something other than Kubernetes objects add diagnostics to d
 * (file:line:col) and are skipped; the others are still judged. Returns 0
 * when every file was read, -1 otherwise (d says why). */
int health_cmd_run(const char *dir, const char *const *files, size_t nfiles, FILE *out,
                   struct diags *d);

#endif
