/*
 * cmd_status.c - placeholder for `logferry status` until the status command lands (issue 7).
 */
#include <stdio.h>

int cmd_status(int argc, char **argv);
int cmd_status(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "logferry status: not available in this build yet\n");
    return 2;
}
