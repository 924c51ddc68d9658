/* corio_scandir: a directory's entries, read on an executor's thread into one allocation. */
#define _GNU_SOURCE /* DT_* */
#include "fs/fs.h"

#include "base/alloc.h"
#include "corio/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The names as read, before they are laid out behind the array. */
typedef struct names {
    corio_dirent *v;
    size_t n, cap, bytes;
} names;

static int names_add(names *ns, const struct dirent *d) {
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 32;
        corio_dirent *v = corio__realloc(ns->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        ns->v = v;
        ns->cap = cap;
    }
    char *name = corio__strdup_raw(d->d_name);
    if (!name)
        return -ENOMEM;
    ns->v[ns->n++] = (corio_dirent){.name = name, .ino = d->d_ino, .type = d->d_type};
    ns->bytes += strlen(name) + 1;
    return 0;
}

static void names_free(names *ns) {
    for (size_t i = 0; i < ns->n; i++)
        free((char *)ns->v[i].name);
    free(ns->v);
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const corio_dirent *)a)->name, ((const corio_dirent *)b)->name);
}

/* One block: the sorted array, then the names it points to. */
static corio_dirent *lay_out(names *ns) {
    qsort(ns->v, ns->n, sizeof *ns->v, by_name);
    corio_dirent *out = corio__malloc(ns->n * sizeof *out + ns->bytes);
    if (!out)
        return NULL;
    char *p = (char *)(out + ns->n);
    for (size_t i = 0; i < ns->n; i++) {
        size_t len = strlen(ns->v[i].name) + 1;
        memcpy(p, ns->v[i].name, len);
        out[i] = ns->v[i];
        out[i].name = p;
        p += len;
    }
    return out;
}

static ssize_t read_all(DIR *dir, names *ns) {
    for (;;) {
        errno = 0;
        struct dirent *d = readdir(dir);
        if (!d)
            return errno ? -errno : 0;
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        int rc = names_add(ns, d);
        if (rc < 0)
            return rc;
    }
}

ssize_t corio__fs_scandir(corio__fs_req *r) {
    int fd = openat(r->f.fd, r->f.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int err = errno;
        close(fd);
        return -err;
    }
    names ns = {0};
    ssize_t rc = read_all(dir, &ns);
    closedir(dir);
    if (rc == 0 && ns.n > 0 && !(r->entries = lay_out(&ns)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = (ssize_t)ns.n;
    names_free(&ns);
    return rc;
}
