/*
 * cmd_compile.c — visec compile (not yet implemented).
 */
#include <stdio.h>

#include "visec.h"

int
cmd_compile(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "visec: error: 'compile' is not implemented yet\n");
    return 2;
}
