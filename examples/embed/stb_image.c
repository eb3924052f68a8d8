/*
 * stb_image.c — the one translation unit that compiles stb_image's
 * implementation (Debian's libstb-dev header).  Third-party code: built
 * with its own relaxed warning flags (see the Makefile).
 */
#include "stb_config.h"
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
