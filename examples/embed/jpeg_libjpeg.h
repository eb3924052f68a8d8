/*
 * jpeg_libjpeg.h — optional JPEG decoder on the system libjpeg, so JPEG
 * pixels match Pillow's exactly (build with 'make JPEG=libjpeg', which
 * defines EMBED_LIBJPEG and links -ljpeg).
 */
#ifndef EMBED_JPEG_LIBJPEG_H
#define EMBED_JPEG_LIBJPEG_H

#include <stddef.h>

/*
 * Decodes the JPEG file held in buf[0..n) to packed RGB (malloc'd, w*h*3
 * bytes) as Image.open(f).convert('RGB') does, refusing images larger than
 * max_dim on a side.  NULL with a message in err on failure.
 */
unsigned char *embed_libjpeg_decode(const unsigned char *buf, size_t n, int max_dim, int *w,
                                    int *h, char *err, size_t errlen);

#endif
