/*
 * jpeg_libjpeg.c — JPEG decoding with the system libjpeg (built only with
 * 'make JPEG=libjpeg').
 *
 * Pillow decodes JPEGs with libjpeg(-turbo) at its default settings (islow
 * IDCT, fancy upsampling).  Using the same library with the same settings
 * gives the same pixels bit for bit, where stb_image's own decoder differs
 * by a few levels (see README.md).
 */
#include "jpeg_libjpeg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr pub;     /* libjpeg's part; must come first */
    jmp_buf env;                   /* where error_exit returns to */
    char msg[JMSG_LENGTH_MAX];     /* the fatal error's text */
} ErrorMgr;

static void
on_error(j_common_ptr cinfo)
{
    ErrorMgr *e = (ErrorMgr *)cinfo->err;

    e->pub.format_message(cinfo, e->msg);
    longjmp(e->env, 1);
}

/* Warnings (corrupt data libjpeg recovers from) are silent, as in Pillow. */
static void
on_message(j_common_ptr cinfo)
{
    (void)cinfo;
}

/* Pillow's MULDIV255: a * b / 255 rounded, in integers. */
static int
muldiv255(int a, int b)
{
    int t = a * b + 128;

    return ((t >> 8) + t) >> 8;
}

unsigned char *
embed_libjpeg_decode(const unsigned char *buf, size_t n, int max_dim, int *w, int *h,
                     char *err, size_t errlen)
{
    struct jpeg_decompress_struct cinfo;
    ErrorMgr jerr;
    unsigned char *volatile rgb = NULL;
    unsigned char *volatile row = NULL;
    int cmyk, inverted;

    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = on_error;
    jerr.pub.output_message = on_message;
    if (setjmp(jerr.env)) {
        snprintf(err, errlen, "cannot decode: %s", jerr.msg);
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(row);
        return NULL;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, buf, (unsigned long)n);
    jpeg_read_header(&cinfo, TRUE);
    if ((int)cinfo.image_width < 1 || (int)cinfo.image_height < 1 ||
        cinfo.image_width > (JDIMENSION)max_dim || cinfo.image_height > (JDIMENSION)max_dim) {
        snprintf(err, errlen, "image size %ux%u not supported (1x1 to %dx%d)",
                 (unsigned)cinfo.image_width, (unsigned)cinfo.image_height, max_dim, max_dim);
        jpeg_destroy_decompress(&cinfo);
        return NULL;
    }
    /* CMYK: Pillow reads Adobe files as inverted ('CMYK;I'), then converts */
    cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    inverted = cmyk && cinfo.saw_Adobe_marker;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    *w = (int)cinfo.output_width;
    *h = (int)cinfo.output_height;
    rgb = malloc((size_t)*w * (size_t)*h * 3);
    row = malloc((size_t)*w * (size_t)cinfo.output_components);
    if (!rgb || !row) {
        snprintf(err, errlen, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(row);
        return NULL;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *dst = rgb + (size_t)cinfo.output_scanline * (size_t)*w * 3;
        JSAMPROW rows[1];

        rows[0] = row;
        jpeg_read_scanlines(&cinfo, rows, 1);
        if (!cmyk) {
            memcpy(dst, row, (size_t)*w * 3);
            continue;
        }
        /* Pillow's cmyk2rgb: R = 255 - K' - C * (255 - K) / 255, clamped */
        for (int x = 0; x < *w; x++) {
            int c[4], nk;

            for (int i = 0; i < 4; i++)
                c[i] = inverted ? 255 - row[x * 4 + i] : row[x * 4 + i];
            nk = 255 - c[3];
            for (int i = 0; i < 3; i++) {
                int v = nk - muldiv255(c[i], nk);

                dst[x * 3 + i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return rgb;
}
