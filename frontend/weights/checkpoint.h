/*
 * checkpoint.h — reading PyTorch and safetensors checkpoints, no Python.
 *
 * A checkpoint file is mapped read-only and decoded into a flat list of
 * tensors (name, dtype, shape, strides, storage offset) over a list of
 * storages (byte ranges of the file).  Nothing from the file is trusted:
 * every size and offset is checked against the file before use, every
 * allocation is bounded by what the file's size justifies, and the pickle
 * machine builds data only — it never calls anything.
 *
 *   ckpt_open.c         format detection and the loader it calls, key prefixes,
 *                       reading tensor data as float32
 *   ckpt_torch.c        PyTorch zip format (torch.save, torch >= 1.6)
 *   ckpt_legacy.c       PyTorch legacy format (_use_new_zipfile_serialization=False)
 *   ckpt_safetensors.c  safetensors, with its small strict JSON parser
 *   ckpt_zip.c          ZIP central directory (ZIP64), STORED and DEFLATE entries
 *   ckpt_pickle.c       the restricted pickle machine
 *   ckpt_common.c       what the loaders share: errors, storages and tensors,
 *                       view checks, pickle values, state-dict selection
 *   ckpt_dtype.c        dtype table and conversion to float32
 *
 * Calls go one way, down this list: ckpt_open.c calls the loaders, a
 * loader calls ckpt_zip.c, ckpt_pickle.c and ckpt_common.c (never another
 * loader), the format libraries call ckpt_common.c, which calls none of
 * them.
 */
#ifndef VISEC_CHECKPOINT_H
#define VISEC_CHECKPOINT_H

#include "ir.h"

/* ------------------------------------------------------------ ckpt_dtype.c */

typedef enum CkDtype {
    CK_F32,             /* float32 */
    CK_F16,             /* float16 (IEEE half) */
    CK_BF16,            /* bfloat16 */
    CK_F64,             /* float64 */
    CK_I64,             /* int64: only num_batches_tracked is accepted */
    CK_I32,             /* the rest are recognised, listed, never bound */
    CK_I16,
    CK_I8,
    CK_U8,
    CK_BOOL,
    CK_NDTYPES
} CkDtype;

typedef struct CkDtypeInfo {
    const char *name;       /* "float16", as PyTorch spells it */
    int size;               /* bytes per element */
    const char *storage;    /* torch storage class: "HalfStorage" */
    const char *st;         /* safetensors dtype: "F16" */
    bool is_float;          /* converted to float32 when read */
} CkDtypeInfo;
extern const CkDtypeInfo ck_dtype[CK_NDTYPES];

/* Converts n little-endian elements of dtype dt at src to float32. */
void ck_to_f32(CkDtype dt, const unsigned char *src, int64_t n, float *dst);

/* ------------------------------------------------------------ ckpt_open.c */

#define CK_MAXRANK 8
#define CK_MAXNAME 1024         /* longest tensor name accepted */

/* A byte range of the file holding one storage's elements. */
typedef struct CkStorage {
    char *key;              /* key in the file ("0", "140229553"), or the tensor name */
    CkDtype dtype;          /* element type */
    int64_t numel;          /* elements */
    int64_t off;            /* file offset of element 0; -1 until located */
    const unsigned char *base; /* NULL: off is in the mapped file; else the inflated
                                * ZIP entry off is relative to (owned by Checkpoint.bufs) */
} CkStorage;

/* One tensor: a strided view of a storage. */
typedef struct CkTensor {
    char *name;             /* key after --select/--strip-prefix/--add-prefix */
    char *stored;           /* key as stored in the file */
    CkDtype dtype;          /* the storage's dtype */
    int rank;               /* 0..CK_MAXRANK */
    int64_t shape[CK_MAXRANK];  /* sizes */
    int64_t stride[CK_MAXRANK]; /* strides in elements */
    int64_t offset;         /* storage offset in elements */
    int64_t numel;          /* product of shape */
    int storage;            /* index in Checkpoint.st */
    int64_t at;             /* file offset where the tensor is described (messages) */
} CkTensor;

/* How to find the state dict in a file and name its keys. */
typedef struct CkOptions {
    const char *select;         /* key of the nested state dict, NULL: auto */
    const char *strip_prefix;   /* removed from keys that start with it, NULL: auto "module." */
    const char *add_prefix;     /* prepended to every key */
} CkOptions;

typedef struct Checkpoint {
    char *path;             /* as given */
    const unsigned char *p; /* the whole file, mapped read-only */
    size_t size;            /* bytes in p */
    const char *format;     /* "PyTorch zip", "PyTorch legacy", "safetensors" */
    char *archive;          /* zip: the record prefix ("archive"); else NULL */
    CkStorage *st;          /* storages */
    int nst;
    CkTensor *t;            /* tensors, sorted by name */
    int nt;
    char *selected;         /* key of the nested state dict used, NULL for the top level */
    bool select_auto;       /* selected without --select */
    char *stripped;         /* prefix removed from keys, NULL if none */
    bool strip_auto;        /* stripped without --strip-prefix */
    PtrVec bufs;            /* inflated ZIP entries the storages point into */
    int ndeflated;          /* ZIP entries that were DEFLATE-compressed */
} Checkpoint;

/* Opens and decodes path; NULL (with errors reported) if it is unusable. */
Checkpoint *ckpt_open(const char *path, const CkOptions *o, Diag *d);
void ckpt_free(Checkpoint *c);
/* The tensor named name (after prefix mapping), or NULL. */
const CkTensor *ckpt_find(const Checkpoint *c, const char *name);
/* Reads a float tensor as contiguous float32 in C order; NULL + error otherwise. */
float *ckpt_read_f32(const Checkpoint *c, const CkTensor *t, Diag *d);
/* CRC-32 of the tensor's bytes in C order: float32 LE after conversion
 * for float dtypes, the stored little-endian elements otherwise. */
bool ckpt_crc32(const Checkpoint *c, const CkTensor *t, uint32_t *crc, Diag *d);
/* ------------------------------------------------------------ ckpt_zip.c */

typedef struct ZipEntry {
    char *name;             /* path inside the archive */
    int64_t hdr;            /* offset of the local header */
    int64_t off;            /* offset of the stored (maybe compressed) data */
    int64_t csize;          /* bytes stored in the file */
    int64_t size;           /* bytes of data once inflated (STORED: csize) */
    int method;             /* 0 STORED, 8 DEFLATE */
    uint32_t crc;           /* CRC-32 from the central directory */
    const unsigned char *data; /* the entry's size bytes: in the file, or inflated */
    unsigned char *inflated;   /* owned buffer of a DEFLATE entry, NULL if STORED */
} ZipEntry;

typedef struct Zip {
    ZipEntry *e;            /* entries, sorted by name */
    int n;
} Zip;

/* Reads and validates the central directory and every local header, and
 * inflates DEFLATE entries (zlib; at most CK_MAX_INFLATE bytes in all and
 * no more than deflate's 1032:1 ratio), so that every entry's data is set. */
bool zip_read(const char *path, const unsigned char *p, size_t size, Zip *z, Diag *d);
#define CK_MAX_INFLATE (INT64_C(16) << 30)
const ZipEntry *zip_find(const Zip *z, const char *name);
/* Checks the entry's data against its CRC-32. */
bool zip_check_crc(const char *path, const ZipEntry *e, Diag *d);
void zip_free(Zip *z);

/* ------------------------------------------------------------ ckpt_pickle.c */

typedef enum PvKind {
    PV_NONE, PV_BOOL, PV_INT, PV_BIGINT, PV_FLOAT, PV_STR,
    PV_TUPLE, PV_LIST, PV_DICT,
    PV_GLOBAL,              /* a whitelisted class or function */
    PV_STORAGE,             /* the result of a persistent load */
    PV_TENSOR,              /* the result of _rebuild_tensor_v2 */
    PV_BYTES,               /* bytes (contents not kept) */
    PV_OPAQUE,              /* an inert placeholder for an object of a class visec does
                             * not know (argparse.Namespace, a numpy scalar, an
                             * nn.Module): s names the class; nothing was run */
} PvKind;

/* The globals a state dict may name. */
typedef enum PyGlobal {
    G_ORDEREDDICT,          /* collections.OrderedDict */
    G_REBUILD_TENSOR_V2,    /* torch._utils._rebuild_tensor_v2 */
    G_REBUILD_PARAMETER,    /* torch._utils._rebuild_parameter */
    G_REBUILD_PARAMETER_WITH_STATE, /* torch._utils._rebuild_parameter_with_state */
    G_STORAGE,              /* torch.FloatStorage, ...: the dtype is in PyVal.dtype */
    G_DTYPE,                /* torch.float32, ...: a dtype constant */
    G_UNKNOWN,              /* any other global: PyVal.s holds "module.name"; calling
                             * or instantiating it makes a PV_OPAQUE */
} PyGlobal;

typedef struct PyVal {
    PvKind kind;
    int depth;              /* containers nested inside (lower bound) */
    int64_t i;              /* PV_BOOL, PV_INT; PV_STORAGE: element offset of a view */
    double f;               /* PV_FLOAT */
    char *s;                /* PV_STR (NUL-free), PV_BIGINT (raw little-endian bytes),
                             * PV_GLOBAL G_UNKNOWN and PV_OPAQUE: "module.name" */
    size_t len;             /* bytes in s */
    struct PyVal **v;       /* PV_TUPLE, PV_LIST: items; PV_DICT: values */
    struct PyVal **k;       /* PV_DICT: keys */
    int n, cap;             /* items, allocated slots */
    PyGlobal g;             /* PV_GLOBAL */
    CkDtype dtype;          /* PV_GLOBAL G_STORAGE/G_DTYPE */
    int storage;            /* PV_STORAGE: index in Checkpoint.st */
    CkTensor *t;            /* PV_TENSOR */
    int64_t at;             /* file offset of the opcode that made it */
} PyVal;

typedef struct Pickle {
    const char *path;       /* file name for messages */
    const unsigned char *p; /* the pickle's bytes */
    size_t n;               /* bytes available from p */
    int64_t base;           /* file offset of p[0] */
    Diag *d;                /* where errors go */
    Checkpoint *ck;         /* storages live here */
    /* Resolves a persistent id to a storage index; -1 after reporting. */
    int (*persistent_load)(struct Pickle *pk, const PyVal *pid, int64_t at, int64_t *elem_off);
    void *ctx;              /* for persistent_load */
    size_t end;             /* after pickle_load: bytes consumed, STOP included */
    PtrVec all;             /* every PyVal made, for pickle_free */
    size_t budget;          /* bytes the machine may still allocate */
} Pickle;

/* Runs the machine to STOP; the result lives until pickle_free. */
PyVal *pickle_load(Pickle *pk);
void pickle_free(Pickle *pk);

/* ------------------------------------------------------------ ckpt_common.c */

/* "[64, 3, 7, 7]" into buf. */
char *ck_shape_str(const CkTensor *t, char *buf, size_t size);

/* Internal to the ckpt_*.c files. */
/* "visec: error: PATH: msg (at byte offset AT)"; at < 0 omits the offset. */
void ck_error(Diag *d, const char *path, int64_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds a storage; returns its index. */
int ck_add_storage(Checkpoint *c, const char *key, CkDtype dt, int64_t numel, int64_t off);
/* Checks a tensor's view against its storage and the file; reports at t->at. */
bool ck_check_tensor(Checkpoint *c, CkTensor *t, Diag *d);
/* Adds a tensor (takes ownership of t->stored). */
void ck_add_tensor(Checkpoint *c, const CkTensor *t);
/* "dict", "tensor", ...: a pickle value's kind for messages. */
const char *pv_kind_name(PvKind k);
/* d[key] for a string key, or NULL. */
PyVal *pv_dict_get(const PyVal *d, const char *key);
/* Is pid a PyTorch storage's persistent id of n items,
 * ('storage', torch.XStorage, key, location, numel[, view])?  Reports if not. */
bool ck_storage_pid(const Pickle *pk, const PyVal *pid, int n, int64_t at);
/* Is storage s, met again, used as the same numel elements of dt?  Reports if not. */
bool ck_same_storage(const Checkpoint *c, int s, CkDtype dt, int64_t numel, int64_t at, Diag *d);
/* The state dict of a decoded pickle: selection, prefixes, tensors. */
bool ck_take_state_dict(Checkpoint *c, const PyVal *root, const CkOptions *o, Diag *d);

/* ------------------------------------------------------------ ckpt_torch.c */

/* PyTorch zip format; the file starts with a local file header. */
bool torch_zip_load(Checkpoint *c, const CkOptions *o, Diag *d);
/* PyTorch legacy format; the file starts with a pickle. */
bool torch_legacy_load(Checkpoint *c, const CkOptions *o, Diag *d);

/* ------------------------------------------------------------ ckpt_safetensors.c */

bool safetensors_load(Checkpoint *c, const CkOptions *o, Diag *d);

#endif
