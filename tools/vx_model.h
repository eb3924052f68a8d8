/*
 * vx_model.h — the API of whichever model a program is compiled for:
 *
 *   cc -DMODEL=vise_resnet50 -DUPPER=VISE_RESNET50 -I OUTDIR -I tools ...
 *
 * includes OUTDIR/MODEL.h and names its functions API(_open), API(_run), ...
 * and its sizes INPUT_SIZE, OUTPUT_SIZE, OUTPUT_RANK and OUTPUT_SHAPE.
 */
#ifndef VX_MODEL_H
#define VX_MODEL_H

#ifndef MODEL
#error "compile with -DMODEL=<model name> -DUPPER=<MODEL NAME>"
#endif
#define STR2(x) #x
#define STR(x) STR2(x)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#include STR(MODEL.h)

#define API(f) CAT(MODEL, f)
#define INPUT_SIZE CAT(UPPER, _INPUT_SIZE)
#define OUTPUT_SIZE CAT(UPPER, _OUTPUT_SIZE)
#define OUTPUT_RANK CAT(UPPER, _OUTPUT_RANK)
#define OUTPUT_SHAPE CAT(UPPER, _OUTPUT_SHAPE)

#endif
