/*
 * cmd_init_weights.c — visec init-weights: a deterministic synthetic
 * checkpoint for a model, so it can be run and compiled without PyTorch.
 *
 * Values are chosen so activations keep a sensible scale through a deep
 * network: conv and linear weights are Kaiming-normal N(0, 2/fan_in), biases
 * small, batch-norm gamma U(0.5, 1.5), beta and running_mean N(0, 0.1^2),
 * running_var U(0.5, 2).
 *
 * Determinism: each tensor has its own splitmix64 stream seeded from the
 * seed and a hash of its name, so a tensor's values do not depend on the
 * order of the model.  Normal deviates are the Irwin–Hall sum of twelve
 * uniform 32-bit integers, computed exactly in integers; the only rounding
 * is one IEEE multiply and one conversion to float, so the file is
 * byte-identical on every IEEE-754 machine (no libm calls).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors_write.h"
#include "visec.h"

/* ---------------------------------------------------------------- random numbers */

typedef struct Rng {
    uint64_t s;     /* splitmix64 state */
} Rng;

static uint64_t
rng_next(Rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* FNV-1a of the tensor name. */
static uint64_t
hash_name(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    return h;
}

/* Uniform in [0, 1): 53 random bits, exact in a double. */
static double
uniform(Rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1p-53;
}

/* Approximately N(0, 1), in [-6, 6]: (sum of 12 U[0,1) - 6), exact. */
static double
normal(Rng *r)
{
    int64_t sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (int64_t)(rng_next(r) >> 32);
    return (double)(sum - 6 * (INT64_C(1) << 32)) * 0x1p-32;
}

/* ---------------------------------------------------------------- synthesis */

typedef enum Dist { D_NORMAL, D_UNIFORM } Dist;

static void
fill(Tensor *t, uint64_t seed, Dist dist, double a, double b)
{
    Rng r = {seed ^ hash_name(t->name)};
    rng_next(&r);       /* decorrelate nearby seeds */
    int64_t n = shape_numel(t->shape, 1);
    t->data = xmalloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        t->data[i] = (float)(dist == D_NORMAL ? a * normal(&r) : a + (b - a) * uniform(&r));
}

void
weights_synthesize(Graph *g, uint64_t seed)
{
    for (int i = 0; i < g->nodes.n; i++) {
        Node *n = GRAPH_NODE(g, i);
        for (int role = 0; role < P_MAX; role++) {
            Tensor *t = n->param[role];
            if (!t || t->data || t->origin)
                continue;
            /* fan_in: every dim of the weight but the first (outputs) */
            int64_t fan_in = shape_numel(t->shape, 1) / (t->shape.rank ? t->shape.dim[0] : 1);
            if (fan_in < 1)
                fan_in = 1;
            switch (op_info[n->op].pk) {
            case PK_CONV:
            case PK_LINEAR:
                if (role == P_WEIGHT) {
                    fill(t, seed, D_NORMAL, sqrt(2.0 / (double)fan_in), 0);
                } else {
                    /* bias: the conv's fan_in is not at hand; keep it small */
                    fill(t, seed, D_UNIFORM, -0.1, 0.1);
                }
                break;
            case PK_BN:
                if (role == P_WEIGHT)
                    fill(t, seed, D_UNIFORM, 0.5, 1.5);
                else if (role == P_VAR)
                    fill(t, seed, D_UNIFORM, 0.5, 2.0);
                else
                    fill(t, seed, D_NORMAL, 0.1, 0);     /* bias, running_mean */
                break;
            case PK_NONE:
            case PK_AFFINE:
                break;
            }
        }
    }
}

/* ---------------------------------------------------------------- command */

static void
help(FILE *f)
{
    fprintf(f,
            "usage: visec init-weights MODEL --seed S -o FILE\n\n"
            "Writes a synthetic checkpoint for MODEL in safetensors format (float32),\n"
            "holding every tensor the model reads from its checkpoint, so the model can\n"
            "be run and compiled without trained weights.  Conv and linear weights are\n"
            "Kaiming-normal N(0, 2/fan_in), biases U(-0.1, 0.1); batch norms get weight\n"
            "U(0.5, 1.5), bias and running_mean N(0, 0.01), running_var U(0.5, 2).\n"
            "The same seed gives a byte-identical file on every machine.\n\n"
            "options:\n"
            "  --seed S          random seed, a whole number from 0 to %ld (default 0)\n"
            "  -o FILE           the checkpoint to write (written whole or not at all)\n"
            "  --help            this text\n",
            (long)LONG_MAX);
}

int
cmd_init_weights(int argc, char **argv)
{
    Diag d;
    diag_init(&d, stderr);
    long seed = 0;
    const char *out = NULL;
    Opt opts[] = {{"--seed", .num = &seed, .lo = 0, .hi = LONG_MAX}, {"-o", .value = &out}, {0}};
    Args a = {.cmd = "init-weights", .takes = TAKES_FILE, .help = help,
              .usage = "visec init-weights MODEL --seed S -o FILE", .opts = opts};
    if (!parse_args(&a, argc, argv, &d))
        return a.status;
    if (!out) {
        error_plain(&d, "no output file given (use -o FILE)");
        return 1;
    }

    Source *src = NULL;
    Graph *g = load_model(a.file, &(LoadOptions){0}, &d, &src);
    if (g) {
        weights_synthesize(g, (uint64_t)seed);
        safetensors_write(out, g, &d);
    }
    graph_free(g);
    source_free(src);
    return d.nerrors ? 1 : 0;
}
