/*
 * preprocess.h — image file to network input, exactly as torchvision's
 * evaluation transform computes it on a PIL image:
 *
 *     Image.open(f).convert('RGB')
 *     Resize(256)            shorter side to 256, PIL bilinear (antialiased)
 *     CenterCrop(224)
 *     ToTensor()             uint8 / 255
 *     Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
 *
 * The resize replicates Pillow's fixed-point resampler (libImaging/Resample.c)
 * pass for pass, so the 8-bit image before ToTensor is bit-identical to
 * Pillow's and the float tensor is identical to torchvision's.
 *
 * This file and preprocess.c use only the stb_image API, not the model, so
 * a preprocessing-only program can be built without generated code.
 */
#ifndef EMBED_PREPROCESS_H
#define EMBED_PREPROCESS_H

#include <stddef.h>

#define EMBED_RESIZE 256           /* Resize(256): the shorter side */
#define EMBED_CROP 224             /* CenterCrop(224) */
#define EMBED_CHANNELS 3
#define EMBED_MAX_DIM 16384        /* larger images are refused */

/* Floats in one preprocessed image: 3 x 224 x 224, planar (CHW). */
#define EMBED_INPUT_SIZE ((size_t)EMBED_CHANNELS * EMBED_CROP * EMBED_CROP)

/*
 * Decodes the image file at path (JPEG, PNG, binary PGM/PPM), converts it
 * to RGB as Pillow's convert('RGB') does and writes the normalised CHW tensor
 * to out[EMBED_INPUT_SIZE].  Returns 0, or -1 with a message that does not
 * name the file in err (the caller adds the name).
 */
int embed_preprocess_file(const char *path, float *out, char *err, size_t errlen);

/*
 * The transform alone: rgb holds h rows of w pixels, 3 bytes each (R, G, B),
 * rows packed.  Returns 0, or -1 with a message in err (bad size, no memory).
 */
int embed_preprocess_rgb(const unsigned char *rgb, int w, int h, float *out, char *err,
                         size_t errlen);

/*
 * torchvision's Resize(256) output size for a w x h image: the shorter side
 * becomes 256 and the longer int(256 * long / short).
 */
void embed_resized_size(int w, int h, int *new_w, int *new_h);

#endif
