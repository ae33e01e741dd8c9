/*
 * migrate_processors.h - Filebeat processors and conditions for `logferry migrate filebeat`
 * (see migrate_processors.c). Single-threaded.
 */
#ifndef LF_MIGRATE_PROCESSORS_H
#define LF_MIGRATE_PROCESSORS_H

#include "agent/migrate.h"

/* Writes a Filebeat condition (equals, contains, regexp, range, has_fields, and, or, not) in
 * logferry's `when` language. -1 when it has no equivalent. */
int mig_condition(const struct my_node *cond, struct buf *out);
/* "fields.PREFIX.KEY = value" lines for a mapping of fields (nested mappings nest). */
int mig_fields(struct migrate *m, struct my_node *map, const char *prefix, struct buf *out);
/* A `processors` list: add_fields lines go to fields; global drop_event conditions to
 * m->drop_when; the rest are notes. */
void mig_processors(struct migrate *m, struct my_node *list, struct buf *fields, int global);

#endif
