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

// A new SxIndex holding the index make() returns, or nullptr with FAISS's
// exception in err.
template <typename F>
SxIndex *
with_index(char *err, size_t errlen, F make)
{
    SxIndex *ix = nullptr;

    if (guarded(err, errlen, [&] {
            ix = new SxIndex{nullptr};
            ix->index = make();
        }) == 0)
        return ix;
    delete ix;
    return nullptr;
}

} // namespace

extern "C" SxIndex *
sx_new(int dim, int nlist, char *err, size_t errlen)
{
    return with_index(err, errlen, [&]() -> faiss::Index * {
        if (nlist == 0)
            return new faiss::IndexFlatIP(dim);
        faiss::IndexFlatIP *quantizer = new faiss::IndexFlatIP(dim);
        faiss::IndexIVFFlat *ivf = new faiss::IndexIVFFlat(quantizer, dim, (size_t)nlist,
                                                           faiss::METRIC_INNER_PRODUCT);
        ivf->own_fields = true;
        return ivf;
    });
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
    SxIndex *ix = with_index(err, errlen, [&] { return faiss::read_index(f); });

    if (ix && ix->index->metric_type != faiss::METRIC_INNER_PRODUCT) {
        std::snprintf(err, errlen, "not an inner-product index");
        sx_free(ix);
        return nullptr;
    }
    return ix;
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
