/*
 * cmd_inspect.c — visec inspect (not yet implemented).
 */
#include <stdio.h>

#include "visec.h"

int
cmd_inspect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "visec: error: 'inspect' is not implemented yet\n");
    return 2;
}
