/*
 * preprocess.c — decode an image and apply torchvision's evaluation
 * transform bit-exactly (see preprocess.h).
 *
 * The resize follows Pillow's libImaging/Resample.c (ImagingResampleInner
 * with the bilinear filter on an 8-bit image):
 *
 *   - per output pixel, a triangle filter whose support grows with the
 *     downscale factor (antialiasing), its weights normalised to sum 1 in
 *     double precision, then rounded to 22-bit fixed point;
 *   - a horizontal pass first, rounded to uint8, then a vertical pass on
 *     that result, rounded to uint8 again;
 *   - a pass whose size does not change is skipped.
 *
 * Every output pixel depends only on its own taps, so only the 224 x 224
 * pixels CenterCrop keeps are computed: the horizontal pass runs on the
 * source rows the kept output rows read, for the kept columns only.  The
 * values are the same as resizing the whole image and cropping afterwards,
 * and a long thin image needs no huge intermediate.
 *
 * The floating-point expressions are written in Pillow's order.  The only
 * multiply-adds a compiler could fuse happen to be exact (a product by a
 * power of two, a sum with 0.0), but the Makefile still builds this file
 * with -ffp-contract=off so that stays true when the code changes.
 */
#include "preprocess.h"
#include "set_err.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stb_config.h"
#include <stb/stb_image.h>

#ifdef EMBED_LIBJPEG
#include "jpeg_libjpeg.h"
#endif

#define PRECISION_BITS 22          /* Pillow: 32 - 8 - 2 */

void
embed_resized_size(int w, int h, int *new_w, int *new_h)
{
    int s = w <= h ? w : h;        /* short side */
    int l = w <= h ? h : w;        /* long side */
    /* Python: int(256 * long / short), a true (double) division truncated */
    int new_l = (int)((double)EMBED_RESIZE * l / s);

    *new_w = w <= h ? EMBED_RESIZE : new_l;
    *new_h = w <= h ? new_l : EMBED_RESIZE;
}

/* CenterCrop's offset: int(round(d / 2.0)), Python rounding half to even. */
static int
crop_offset(int d)
{
    int q = d / 2;

    if (d % 2 != 0 && q % 2 != 0)
        q++;
    return q;
}

/* ---- Pillow's resampling coefficients ---------------------------------- */

/* The taps of n consecutive output pixels along one axis. */
typedef struct {
    int ksize;                     /* coefficients stored per output pixel */
    int *first;                    /* [n] first input index read */
    int *count;                    /* [n] number of input pixels read */
    int *k;                        /* [n * ksize] 22-bit fixed-point weights */
} Taps;

static double
bilinear_filter(double x)
{
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return 1.0 - x;
    return 0.0;
}

static void
taps_free(Taps *t)
{
    free(t->first);
    free(t->count);
    free(t->k);
}

/*
 * Pillow's precompute_coeffs() + normalize_coeffs_8bpc() for resizing
 * in_size to out_size (box 0..in_size), restricted to the n output pixels
 * out0 .. out0+n-1.  Returns 0, or -1 when out of memory.
 */
static int
taps_init(Taps *t, int in_size, int out_size, int out0, int n)
{
    double scale, filterscale, support, ss;
    double *w;
    int ksize;

    /* Pillow computes (double)(in1 - in0) with float box edges 0 and in_size */
    filterscale = scale = (double)((float)in_size - 0.0f) / out_size;
    if (filterscale < 1.0)
        filterscale = 1.0;
    support = 1.0 * filterscale;   /* the bilinear filter's support is 1 */
    ksize = (int)ceil(support) * 2 + 1;
    ss = 1.0 / filterscale;

    t->ksize = ksize;
    t->first = malloc((size_t)n * sizeof *t->first);
    t->count = malloc((size_t)n * sizeof *t->count);
    t->k = malloc((size_t)n * (size_t)ksize * sizeof *t->k);
    w = malloc((size_t)ksize * sizeof *w);
    if (!t->first || !t->count || !t->k || !w) {
        free(w);
        taps_free(t);
        return -1;
    }
    /* each output pixel xx, absolute index out0 + i */
    for (int i = 0; i < n; i++) {
        int xx = out0 + i;
        double center = 0.0 + (xx + 0.5) * scale;
        double ww = 0.0;
        int xmin = (int)(center - support + 0.5);
        int xmax = (int)(center + support + 0.5);
        int *k = &t->k[(size_t)i * ksize];
        int x;

        if (xmin < 0)
            xmin = 0;
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        /* the filter at each input pixel the window covers */
        for (x = 0; x < xmax; x++) {
            w[x] = bilinear_filter((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        /* normalised to sum 1, then to fixed point rounded half away from 0 */
        for (x = 0; x < xmax; x++) {
            double v = w[x];

            if (ww != 0.0)
                v /= ww;
            if (v < 0)
                k[x] = (int)(-0.5 + v * (1 << PRECISION_BITS));
            else
                k[x] = (int)(0.5 + v * (1 << PRECISION_BITS));
        }
        for (; x < ksize; x++)
            k[x] = 0;
        t->first[i] = xmin;
        t->count[i] = xmax;
    }
    free(w);
    return 0;
}

/* Pillow's clip8(): the fixed-point sum back to a byte. */
static unsigned char
clip8(int ss)
{
    int v = ss >= 0 ? ss >> PRECISION_BITS : 0;

    return (unsigned char)(v > 255 ? 255 : v);
}

/* ---- the transform ------------------------------------------------------ */

int
embed_preprocess_rgb(const unsigned char *rgb, int w, int h, float *out, char *err,
                     size_t errlen)
{
    static const float mean[EMBED_CHANNELS] = {0.485f, 0.456f, 0.406f};
    static const float std[EMBED_CHANNELS] = {0.229f, 0.224f, 0.225f};
    const int C = EMBED_CROP;
    const size_t plane = (size_t)C * C;
    int new_w, new_h, top, left, row0, row1;
    int need_h, need_v;
    Taps th = {0, NULL, NULL, NULL}, tv = {0, NULL, NULL, NULL};
    unsigned char *tmp = NULL, *crop = NULL;
    int rc = -1;

    if (w < 1 || h < 1) {
        set_err(err, errlen, "empty image (%dx%d)", w, h);
        return -1;
    }
    if (w > EMBED_MAX_DIM || h > EMBED_MAX_DIM) {
        set_err(err, errlen, "image too large (%dx%d; the limit is %dx%d)", w, h,
                EMBED_MAX_DIM, EMBED_MAX_DIM);
        return -1;
    }
    embed_resized_size(w, h, &new_w, &new_h);
    /* both sides are >= 256 after the resize, so the crop never pads */
    top = crop_offset(new_h - C);
    left = crop_offset(new_w - C);
    need_h = new_w != w;
    need_v = new_h != h;

    if ((need_h && taps_init(&th, w, new_w, left, C) != 0) ||
        (need_v && taps_init(&tv, h, new_h, top, C) != 0))
        goto oom;
    /* source rows [row0, row1) that the kept output rows read */
    if (need_v) {
        row0 = tv.first[0];
        row1 = tv.first[C - 1] + tv.count[C - 1];
    } else {
        row0 = top;
        row1 = top + C;
    }
    tmp = malloc((size_t)(row1 - row0) * C * 3);
    crop = malloc(plane * 3);
    if (!tmp || !crop)
        goto oom;

    /* horizontal pass: source rows row0..row1-1, kept columns, to uint8 */
    for (int y = row0; y < row1; y++) {
        const unsigned char *src = rgb + (size_t)y * w * 3;
        unsigned char *dst = tmp + (size_t)(y - row0) * C * 3;

        if (!need_h) {
            memcpy(dst, src + (size_t)left * 3, (size_t)C * 3);
            continue;
        }
        for (int j = 0; j < C; j++) {
            const int *k = &th.k[(size_t)j * th.ksize];
            const unsigned char *p = src + (size_t)th.first[j] * 3;
            int ss0 = 1 << (PRECISION_BITS - 1), ss1 = ss0, ss2 = ss0;

            for (int x = 0; x < th.count[j]; x++) {
                ss0 += p[x * 3 + 0] * k[x];
                ss1 += p[x * 3 + 1] * k[x];
                ss2 += p[x * 3 + 2] * k[x];
            }
            dst[j * 3 + 0] = clip8(ss0);
            dst[j * 3 + 1] = clip8(ss1);
            dst[j * 3 + 2] = clip8(ss2);
        }
    }

    /* vertical pass: the kept rows, from the horizontal result, to uint8 */
    for (int i = 0; i < C; i++) {
        unsigned char *dst = crop + (size_t)i * C * 3;

        if (!need_v) {
            memcpy(dst, tmp + (size_t)(top + i - row0) * C * 3, (size_t)C * 3);
            continue;
        }
        const int *k = &tv.k[(size_t)i * tv.ksize];
        const unsigned char *src = tmp + (size_t)(tv.first[i] - row0) * C * 3;

        for (int j = 0; j < C * 3; j++) {
            int ss = 1 << (PRECISION_BITS - 1);

            for (int y = 0; y < tv.count[i]; y++)
                ss += src[(size_t)y * C * 3 + j] * k[y];
            dst[j] = clip8(ss);
        }
    }

    /* ToTensor and Normalize, in float32 as torch computes them: HWC to CHW */
    for (int c = 0; c < EMBED_CHANNELS; c++)
        for (size_t p = 0; p < plane; p++)
            out[c * plane + p] = ((float)crop[p * 3 + c] / 255.0f - mean[c]) / std[c];
    rc = 0;
    goto done;

oom:
    set_err(err, errlen, "out of memory");
done:
    free(crop);
    free(tmp);
    taps_free(&th);
    taps_free(&tv);
    return rc;
}

/* ---- decoding ------------------------------------------------------------ */

/*
 * stb_image decodes a JPEG whose data stops early without complaint (the
 * missing blocks come out grey); Pillow refuses it ("image file is
 * truncated").  This walks the marker segments and the entropy-coded data
 * of the main image and reports whether its EOI marker is present.
 */
static int
jpeg_is_complete(const unsigned char *b, size_t n)
{
    size_t i = 2;                  /* after SOI */

    while (i + 1 < n) {
        unsigned m;

        if (b[i] != 0xFF) {        /* stray bytes: libjpeg warns and skips */
            i++;
            continue;
        }
        m = b[i + 1];
        if (m == 0xFF) {           /* fill byte */
            i++;
            continue;
        }
        i += 2;
        if (m == 0xD9)             /* EOI */
            return 1;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue;              /* markers without a length */
        if (i + 1 >= n)
            return 0;
        i += ((size_t)b[i] << 8 | b[i + 1]);
        if (m != 0xDA)
            continue;
        /* SOS: skip the entropy-coded data up to the next real marker */
        while (i + 1 < n && !(b[i] == 0xFF && b[i + 1] != 0x00 &&
                              !(b[i + 1] >= 0xD0 && b[i + 1] <= 0xD7)))
            i++;
    }
    return 0;
}

/*
 * Binary PGM/PPM (P5/P6) whose maxval is not 255.  stb_image keeps such
 * samples unscaled (or takes the high byte above 255); Pillow's PpmDecoder
 * scales each to round(v / maxval * 255), and a PGM with maxval > 255
 * becomes mode 'I' (scaled to 0..65535), which convert('RGB') clamps to 255.
 * Returns the malloc'd RGB pixels, NULL with err set on a bad file, or NULL
 * with *handled = 0 when the file is not such a PNM (stb_image decodes it).
 */
static int
pnm_token(const unsigned char *b, size_t n, size_t *i, long *v)
{
    for (;;) {
        while (*i < n && (b[*i] == ' ' || (b[*i] >= '\t' && b[*i] <= '\r')))
            ++*i;
        if (*i < n && b[*i] == '#') {
            while (*i < n && b[*i] != '\n' && b[*i] != '\r')
                ++*i;
            continue;
        }
        break;
    }
    if (*i >= n || b[*i] < '0' || b[*i] > '9')
        return -1;
    *v = 0;
    while (*i < n && b[*i] >= '0' && b[*i] <= '9') {
        *v = *v * 10 + (b[*i] - '0');
        if (*v > 1L << 24)
            return -1;
        ++*i;
    }
    return 0;
}

static unsigned char *
decode_pnm_maxval(const unsigned char *b, size_t n, int *w, int *h, int *handled, char *err,
                  size_t errlen)
{
    size_t i = 2, npix, need;
    long width, height, maxval;
    int bands, bytes, out_max;
    unsigned char *rgb;

    *handled = 0;
    if (n < 3 || b[0] != 'P' || (b[1] != '5' && b[1] != '6'))
        return NULL;
    if (pnm_token(b, n, &i, &width) || pnm_token(b, n, &i, &height) ||
        pnm_token(b, n, &i, &maxval) || maxval == 255)
        return NULL;               /* stb_image's business (or its error) */
    *handled = 1;
    if (maxval < 1 || maxval > 65535) {
        set_err(err, errlen, "cannot decode: PNM maxval %ld out of range 1..65535", maxval);
        return NULL;
    }
    if (width < 1 || height < 1 || width > EMBED_MAX_DIM || height > EMBED_MAX_DIM) {
        set_err(err, errlen, "image size %ldx%ld not supported (1x1 to %dx%d)", width, height,
                EMBED_MAX_DIM, EMBED_MAX_DIM);
        return NULL;
    }
    i++;                           /* the single whitespace after maxval */
    bands = b[1] == '5' ? 1 : 3;
    bytes = maxval < 256 ? 1 : 2;
    out_max = bands == 1 && maxval > 255 ? 65535 : 255;
    npix = (size_t)width * (size_t)height;
    need = npix * (size_t)bands * (size_t)bytes;
    if (i > n || n - i < need) {
        set_err(err, errlen, "cannot decode: truncated PNM data");
        return NULL;
    }
    rgb = malloc(npix * 3);
    if (!rgb) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    b += i;
    for (size_t p = 0; p < npix * (size_t)bands; p++) {
        long v = bytes == 1 ? b[p] : (long)b[2 * p] << 8 | b[2 * p + 1];
        /* Python: min(out_max, round(v / maxval * out_max)), half to even */
        double r = nearbyint((double)v / (double)maxval * out_max);
        int s = r > out_max ? out_max : (int)r;

        s = s > 255 ? 255 : s;     /* convert('RGB') from mode 'I' clamps */
        if (bands == 1)
            rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = (unsigned char)s;
        else
            rgb[p] = (unsigned char)s;
    }
    *w = (int)width;
    *h = (int)height;
    return rgb;
}

/* Reads the whole file; returns the malloc'd bytes or NULL with err set. */
static unsigned char *
read_file(const char *path, size_t *size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;

    if (!f) {
        set_err(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    for (;;) {
        size_t got;

        if (len == cap) {
            unsigned char *nb;

            if (cap > ((size_t)INT_MAX) / 2) {
                set_err(err, errlen, "file too large");
                goto fail;
            }
            cap = cap ? cap * 2 : 1 << 16;
            nb = realloc(buf, cap);
            if (!nb) {
                set_err(err, errlen, "out of memory");
                goto fail;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                set_err(err, errlen, "cannot read: %s", strerror(errno));
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    *size = len;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

/*
 * Decodes to packed RGB the way Image.open(f).convert('RGB') sees the file.
 * Grey and grey+alpha become R=G=B, alpha is dropped, palettes are expanded
 * and 16-bit samples keep their high byte (Pillow's ';16B' unpackers) —
 * except a 16-bit grey PNG, which Pillow opens as mode 'I' and convert('RGB')
 * clamps to 0..255 rather than scaling.  The result is freed with
 * (*release)().
 */
static unsigned char *
decode_rgb(const char *path, int *w, int *h, void (**release)(void *), char *err, size_t errlen)
{
    size_t size;
    unsigned char *file = read_file(path, &size, err, errlen);
    unsigned char *rgb = NULL;
    int comp, len, pnm;

    if (!file)
        return NULL;
    if (size == 0) {
        set_err(err, errlen, "cannot decode: empty file");
        goto out;
    }
    len = (int)size;
    rgb = decode_pnm_maxval(file, size, w, h, &pnm, err, errlen);
    if (pnm) {
        *release = free;
        goto out;
    }
    if (!stbi_info_from_memory(file, len, w, h, &comp)) {
        set_err(err, errlen, "cannot decode: %s", stbi_failure_reason());
        goto out;
    }
    if (*w < 1 || *h < 1 || *w > EMBED_MAX_DIM || *h > EMBED_MAX_DIM) {
        set_err(err, errlen, "image size %dx%d not supported (1x1 to %dx%d)", *w, *h,
                EMBED_MAX_DIM, EMBED_MAX_DIM);
        goto out;
    }
    if (size >= 2 && file[0] == 0xFF && file[1] == 0xD8 && !jpeg_is_complete(file, size)) {
        set_err(err, errlen, "cannot decode: truncated JPEG (no end-of-image marker)");
        goto out;
    }
    *release = stbi_image_free;
#ifdef EMBED_LIBJPEG
    if (file[0] == 0xFF && file[1] == 0xD8) {
        rgb = embed_libjpeg_decode(file, size, EMBED_MAX_DIM, w, h, err, errlen);
        *release = free;
        goto out;
    }
#endif
    if (comp == 1 && size >= 8 && !memcmp(file, "\x89PNG", 4) &&
        stbi_is_16_bit_from_memory(file, len)) {
        /* narrowed in place: byte i takes sample i, which has been read */
        stbi_us *g = stbi_load_16_from_memory(file, len, w, h, &comp, 3);

        if (g) {
            size_t n = (size_t)*w * (size_t)*h * 3;

            rgb = (unsigned char *)g;
            for (size_t i = 0; i < n; i++)
                rgb[i] = (unsigned char)(g[i] > 255 ? 255 : g[i]);
        }
    } else {
        rgb = stbi_load_from_memory(file, len, w, h, &comp, 3);
    }
    if (!rgb)
        set_err(err, errlen, "cannot decode: %s", stbi_failure_reason());
out:
    free(file);
    return rgb;
}

int
embed_preprocess_file(const char *path, float *out, char *err, size_t errlen)
{
    int w, h, rc;
    void (*release)(void *) = free;
    unsigned char *rgb = decode_rgb(path, &w, &h, &release, err, errlen);

    if (!rgb)
        return -1;
    rc = embed_preprocess_rgb(rgb, w, h, out, err, errlen);
    release(rgb);
    return rc;
}
