/*
 * outputs.c - the table of output types the core knows (add one line per output type), and
 * the keys every output takes whatever its type.
 */
#include "outputs/output.h"

#include <stddef.h>
#include <string.h>

const struct output_desc *const output_types[] = {
    &out_file_desc,
    &out_es_desc,
    &out_kafka_desc,
    &out_slack_desc,
    &out_webhook_desc,
    &out_logstash_desc,
    NULL,
};

#define OC(m) offsetof(struct output_common, m)
const struct conf_key output_common_keys[] = {
    /* Off by default until the read-back keeps up with the output and a crash re-sends no
     * more than without it (issue 17): opt in with a size, e.g. 1GiB. */
    {"spool", CT_SIZE, "0", OC(spool),
     "disk under data_dir/spool/NAME for batches this output cannot take when offered (down, "
     "or its queue full), so the other outputs and reading go on, e.g. 1GiB; 0: none, this "
     "output holds the others back when it stalls", NULL},
    {"spool_full", CT_STR, "block", OC(spool_full),
     "when the spool is full: block (reading pauses) or drop_oldest (its oldest segment is "
     "deleted, every event in it counted as dropped)", "block|drop_oldest"},
    {NULL, 0, NULL, 0, NULL, NULL},
};

const struct output_desc *output_find(const char *type)
{
    for (int i = 0; output_types[i]; i++)
        if (strcmp(output_types[i]->type, type) == 0)
            return output_types[i];
    return NULL;
}
