/*
 * agent_id.h - the agent's stable identity (agent.id), kept in data_dir/agent.id.
 */
#ifndef LF_AGENT_ID_H
#define LF_AGENT_ID_H

#include <stddef.h>

/* Reads data_dir/agent.id, or makes a random UUID and writes it there durably on the first
 * start, then hands it and `name` (the agent's name, which must outlive the agent) to
 * event_set_agent(). On an error (unwritable data_dir) it logs and events carry a random id
 * for this run only. Main thread, before the output threads start. */
void agent_identity_init(const char *data_dir, const char *name);

/* Reads or creates the id file: 0, or -1 with err. id gets 36 characters and a NUL. */
int agent_id_load(const char *data_dir, char id[37], char *err, size_t errsz);

#endif
