// faiss_glue.cpp — FAISS behind the C interface of faiss_glue.h.
#include "faiss_glue.h"

#include <cstdio>
#include <exception>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/index_io.h>

struct SxIndex {
    faiss::Index *index;            // the index (owns its quantizer)
};

namespace {

void
set_err(char *err, size_t errlen, const std::exception &e)
{
    std::snprintf(err, errlen, "faiss: %s", e.what());
}

// Runs f: 0, or -1 with FAISS's exception in err.
template <typename F>
int
guarded(char *err, size_t errlen, F f)
{
    try {
        f();
        return 0;
    } catch (const std::exception &e) {
        set_err(err, errlen, e);
        return -1;
    }
}

} // namespace

extern "C" SxIndex *
sx_new(int dim, int nlist, char *err, size_t errlen)
{
    SxIndex *ix = nullptr;

    try {
        ix = new SxIndex{nullptr};
        if (nlist == 0) {
            ix->index = new faiss::IndexFlatIP(dim);
        } else {
            faiss::IndexFlatIP *quantizer = new faiss::IndexFlatIP(dim);
            faiss::IndexIVFFlat *ivf = new faiss::IndexIVFFlat(quantizer, dim, (size_t)nlist,
                                                               faiss::METRIC_INNER_PRODUCT);
            ivf->own_fields = true;
            ix->index = ivf;
        }
        return ix;
    } catch (const std::exception &e) {
        set_err(err, errlen, e);
        delete ix;
        return nullptr;
    }
}

extern "C" int
sx_train(SxIndex *ix, long n, const float *x, char *err, size_t errlen)
{
    return guarded(err, errlen, [&] {
        if (!ix->index->is_trained)
            ix->index->train(n, x);
    });
}

extern "C" int
sx_add(SxIndex *ix, long n, const float *x, char *err, size_t errlen)
{
    return guarded(err, errlen, [&] { ix->index->add(n, x); });
}

extern "C" long
sx_size(const SxIndex *ix)
{
    return (long)ix->index->ntotal;
}

extern "C" int
sx_dim(const SxIndex *ix)
{
    return (int)ix->index->d;
}

extern "C" int
sx_write(const SxIndex *ix, FILE *f, char *err, size_t errlen)
{
    return guarded(err, errlen, [&] { faiss::write_index(ix->index, f); });
}

extern "C" SxIndex *
sx_read(FILE *f, char *err, size_t errlen)
{
    SxIndex *ix = nullptr;

    try {
        ix = new SxIndex{nullptr};
        ix->index = faiss::read_index(f);
        if (ix->index->metric_type != faiss::METRIC_INNER_PRODUCT) {
            std::snprintf(err, errlen, "not an inner-product index");
            delete ix->index;
            delete ix;
            return nullptr;
        }
        return ix;
    } catch (const std::exception &e) {
        set_err(err, errlen, e);
        delete ix;
        return nullptr;
    }
}

extern "C" int
sx_search(SxIndex *ix, long nq, const float *q, int k, int nprobe, float *scores, long *ids,
          char *err, size_t errlen)
{
    return guarded(err, errlen, [&] {
        std::vector<faiss::Index::idx_t> labels((size_t)nq * (size_t)k);

        if (faiss::IndexIVF *ivf = dynamic_cast<faiss::IndexIVF *>(ix->index))
            ivf->nprobe = (size_t)(nprobe < 1 ? 1 : nprobe);
        ix->index->search(nq, q, k, scores, labels.data());
        for (size_t i = 0; i < labels.size(); i++)
            ids[i] = (long)labels[i];
    });
}

extern "C" void
sx_free(SxIndex *ix)
{
    if (ix) {
        delete ix->index;
        delete ix;
    }
}
