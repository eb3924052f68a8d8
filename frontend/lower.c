#include "frontend.h"
Graph *frontend_load(const char *path, Diag *d, Source **src) { *src = NULL; error_plain(d, "frontend not written yet: %s", path); return NULL; }
Graph *frontend_load_string(const char *path, const char *text, Diag *d, Source **src) { *src = NULL; error_plain(d, "frontend not written yet: %s %s", path, text); return NULL; }
