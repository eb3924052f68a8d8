/*
 * fuzz_schedule.c — libFuzzer target: any bytes as a schedule file, read and
 * applied to a small model with convolutions of every kind.  It must end in
 * legal schedules or reported errors, never a crash or a hang.  Built by
 * `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"
#include "fuzz_text.h"
#include "passes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char model[] =
    "model fz\n"
    "input x: [N, 3, 32, 32]\n"
    "h = relu(batchnorm(conv2d(x, \"stem\", out=16, kernel=7, stride=2, pad=3), \"bn\"))\n"
    "h = maxpool(h, kernel=3, stride=2, pad=1)\n"
    "s = h\n"
    "h = relu(conv2d(h, \"a.conv1\", out=32, kernel=1))\n"
    "h = relu(conv2d(h, \"a.conv2\", out=32, kernel=3, pad=1))\n"
    "h = relu(add(conv2d(h, \"a.conv3\", out=16, kernel=1), s))\n"
    "h = conv2d(h, \"b.conv1\", out=32, kernel=3, stride=2, pad=1, groups=4)\n"
    "output y = h\n";

static void
check(const char *text, Diag *d, FILE *null)
{
    SchedFile *f = schedfile_read_string("fuzz.sched", text, d);
    if (f) {
        Source *src = NULL;
        Graph *g = frontend_load_string("fz.vise", model, d, &src);
        if (!g)
            abort();    /* the fixed model is valid */
        PipelineOptions o = {.out = null, .target = target_find("x86-64-v4"), .sched_file = f, .diag = d};
        run_pipeline(g, &o);    /* schedule-file errors are reported; a bad schedule would bug() */
        graph_free(g);
        source_free(src);
        schedfile_free(f);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_text(data, size, check);
}
