/* k8s_yaml.h - YAML in and out of the k8s module: manifests read the way
 * kubectl reads them (multi-document files, Lists, YAML 1.1 integers),
 * and objects written for backups so that any YAML reader restores the
 * same object.
 *
 * Ownership: the caller owns what it passes; *err is malloc'd. */
#ifndef PHASEGATE_K8S_YAML_H
#define PHASEGATE_K8S_YAML_H

#include <jansson.h>

#include "util.h"

/* Reads the objects of a manifest file into out (an array): every
 * document that is not blank or comments only, a List's items one by
 * one; plain integers in kubectl's YAML 1.1 forms (0644 octal, 0o, 0b,
 * 1_000). Returns 0, or -1 with *err naming the file and document. */
int k8s_load_manifests(const char *path, json_t *out, char **err);
/* The same for text already read (path names it in messages). */
int k8s_load_manifests_text(const char *path, const char *data, size_t len, json_t *out,
                            char **err);

/* Appends obj as block-style YAML through libyaml's emitter, ending in a
 * newline. Strings a YAML 1.1 or 1.2 reader could take for a boolean,
 * null or number (True, NO, Off, 0644, 1e3, "") are double-quoted, so a
 * restore by any reader gives back the same object. */
void k8s_yaml(struct buf *b, json_t *obj);

#endif
