/*
 * outputs.c - the table of output types the core knows. Add one line per output type.
 */
#include "outputs/output.h"

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

const struct output_desc *output_find(const char *type)
{
    for (int i = 0; output_types[i]; i++)
        if (strcmp(output_types[i]->type, type) == 0)
            return output_types[i];
    return NULL;
}
