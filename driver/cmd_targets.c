/*
 * cmd_targets.c — visec targets: the target tables, as the schedule sees them.
 */
#include <inttypes.h>
#include <string.h>

#include "schedules.h"
#include "visec.h"

static void
row(const Target *t)
{
    printf("%-10s %5d %5d  %6" PRId64 " KiB %6" PRId64 " KiB %7" PRId64 " KiB  %2dx%-3d  %s\n", t->name, t->lanes,
           t->vregs, t->l1 >> 10, t->l2 >> 10, t->l3 >> 10, t->reg_co, t->reg_pix, t->descr);
}

static void
help(FILE *f)
{
    fprintf(f, "usage: visec targets\n\n"
               "Lists the target tables --target chooses from: float lanes per vector\n"
               "register, vector registers, the cache sizes the schedule assumes, the\n"
               "default register block.  'native' is this machine, detected now.\n");
}

int
cmd_targets(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    Args a = {.cmd = "targets", .help = help};
    if (!parse_args(&a, argc, argv, &d))
        return a.status;
    printf("%-10s %5s %5s  %10s %10s %11s  %-6s  %s\n", "target", "lanes", "vregs", "L1", "L2", "L3", "reg",
           "");
    for (int i = 0; target_tables[i]; i++)
        row(target_tables[i]);
    row(target_native());
    return 0;
}
