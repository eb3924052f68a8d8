/*
 * outfile.c — write to a temporary file, then rename it into place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

bool
outfile_open(OutFile *o, const char *path, Diag *d)
{
    memset(o, 0, sizeof *o);
    if (!*path) {
        error_plain(d, "empty output file name");
        return false;
    }
    o->tmp = xprintf("%s.tmpXXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        error_plain(d, "cannot create '%s': %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return false;
    }
    /* mkstemp makes the file 0600; give it the mode a plain fopen would. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);   /* if it fails the owner can still use it */
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        error_plain(d, "cannot write '%s': %s", path, strerror(errno));
        close(fd);
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        return false;
    }
    o->path = xstrdup(path);
    return true;
}

bool
outfile_commit(OutFile *o, Diag *d)
{
    int bad = ferror(o->f);
    int err = errno;
    if (fflush(o->f) != 0) {
        bad = 1;
        err = errno;
    }
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    o->f = NULL;
    if (!bad && rename(o->tmp, o->path) != 0) {
        bad = 1;
        err = errno;
    }
    if (bad) {
        error_plain(d, "cannot write '%s': %s", o->path, strerror(err ? err : EIO));
        unlink(o->tmp);
    }
    free(o->tmp);
    free(o->path);
    o->tmp = o->path = NULL;
    return !bad;
}

void
outfile_abort(OutFile *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}
