/*
 * stb_config.h — how this program configures stb_image: included before
 * <stb/stb_image.h> by every file that uses it.
 *
 * Only the formats the example documents are compiled in and failure
 * messages are the readable ones.  stb_image's own dimension limit stays at
 * its default (2^24), so stbi_info() reports an oversized image's size and
 * preprocess.c refuses it, naming the size, before anything is decoded.
 */
#ifndef EMBED_STB_CONFIG_H
#define EMBED_STB_CONFIG_H

#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_PNM
#define STBI_NO_LINEAR
#define STBI_FAILURE_USERMSG

#endif
