/*
 * cmd_init_weights.c — visec init-weights (not yet implemented).
 */
#include <stdio.h>

#include "visec.h"

int
cmd_init_weights(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "visec: error: 'init-weights' is not implemented yet\n");
    return 2;
}
