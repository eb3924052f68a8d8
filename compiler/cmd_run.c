/*
 * cmd_run.c — visec run (not yet implemented).
 */
#include <stdio.h>

#include "visec.h"

int
cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "visec: error: 'run' is not implemented yet\n");
    return 2;
}
