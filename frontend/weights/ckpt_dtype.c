/*
 * ckpt_dtype.c — the element types a checkpoint may hold, and their
 * conversion to float32.
 *
 * The conversions are exact for float16 and bfloat16 (every value is a
 * float32), and round to nearest-even for float64, as numpy's astype does.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "checkpoint.h"

const CkDtypeInfo ck_dtype[CK_NDTYPES] = {
    [CK_F32] = {"float32", 4, "FloatStorage", "F32", true},
    [CK_F16] = {"float16", 2, "HalfStorage", "F16", true},
    [CK_BF16] = {"bfloat16", 2, "BFloat16Storage", "BF16", true},
    [CK_F64] = {"float64", 8, "DoubleStorage", "F64", true},
    [CK_I64] = {"int64", 8, "LongStorage", "I64", false},
    [CK_I32] = {"int32", 4, "IntStorage", "I32", false},
    [CK_I16] = {"int16", 2, "ShortStorage", "I16", false},
    [CK_I8] = {"int8", 1, "CharStorage", "I8", false},
    [CK_U8] = {"uint8", 1, "ByteStorage", "U8", false},
    [CK_BOOL] = {"bool", 1, "BoolStorage", "BOOL", false},
};

static uint32_t
le32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float
bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* IEEE half to float: exact, subnormals and NaN payloads kept. */
static float
half_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f)                        /* inf or NaN */
        return bits_f32(sign | 0x7f800000u | man << 13);
    if (exp == 0) {                         /* zero or subnormal: man * 2^-24 */
        float f = (float)man * 0x1p-24f;
        return sign ? -f : f;
    }
    return bits_f32(sign | (exp + 112) << 23 | man << 13);
}

/* float64 to float32 with round to nearest even; overflow gives inf
 * without the undefined behaviour of an out-of-range cast. */
static float
f64_to_f32(double x)
{
    /* FLT_MAX plus half an ulp: from here on, rounding goes to infinity. */
    const double lim = 0x1.ffffffp127;
    if (x >= lim)
        return INFINITY;
    if (x <= -lim)
        return -INFINITY;
    return (float)x;
}

void
ck_to_f32(CkDtype dt, const unsigned char *src, int64_t n, float *dst)
{
    switch (dt) {
    case CK_F32:
        for (int64_t i = 0; i < n; i++)
            dst[i] = bits_f32(le32(src + 4 * i));
        return;
    case CK_F16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = half_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
        return;
    case CK_BF16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = bits_f32((uint32_t)(src[2 * i] | src[2 * i + 1] << 8) << 16);
        return;
    case CK_F64:
        for (int64_t i = 0; i < n; i++) {
            uint64_t u = (uint64_t)le32(src + 8 * i + 4) << 32 | le32(src + 8 * i);
            double x;
            memcpy(&x, &u, 8);
            dst[i] = f64_to_f32(x);
        }
        return;
    default:
        bug("ck_to_f32: %s is not a float dtype", ck_dtype[dt].name);
    }
}
