// preprocess_generator.cpp — a Halide AOT generator: a decoded 8-bit RGB
// image to the VisE trunk's normalized float input.
//
//   rgb  uint8 [3, width, height]: interleaved, as image decoders write it
//   x    float32 [224, 224, 3, batch]: Halide's order of the trunk's NCHW input
//
//   x(i, j, c, n) = (rgb(c, left + i, top + j) / 255 - mean[c]) / std[c]
//
// a centre crop of 224 x 224 (left = (width - 224) / 2, top likewise; images
// smaller than that repeat their edge pixels) normalized with ImageNet's
// mean and std, the same image in every batch slot.  No resize: feed images
// about 224 pixels on the shorter side (examples/embed has torchvision's full
// Resize(256) + CenterCrop(224) transform in C).
//
// Built with Debian's Halide (libhalide14-0-dev) and its GenGen.cpp, with
// target host-no_runtime: the program links one Halide runtime, shared with
// the visec-generated trunk.
#include "Halide.h"

namespace {

using namespace Halide;

class VisePreprocess : public Generator<VisePreprocess> {
public:
    Input<Buffer<uint8_t, 3>> rgb{"rgb"};
    Output<Buffer<float, 4>> x{"x"};

    void generate() {
        Var i("i"), j("j"), c("c"), n("n");
        const int crop = 224;
        Expr left = (rgb.dim(1).extent() - crop) / 2;
        Expr top = (rgb.dim(2).extent() - crop) / 2;
        Func edge = BoundaryConditions::repeat_edge(rgb);
        Expr mean = select(c == 0, 0.485f, c == 1, 0.456f, 0.406f);
        Expr std_dev = select(c == 0, 0.229f, c == 1, 0.224f, 0.225f);
        x(i, j, c, n) = (cast<float>(edge(c, left + i, top + j)) / 255.0f - mean) / std_dev;

        // The shapes both sides agree on: interleaved RGB in, the trunk's input out.
        rgb.dim(0).set_bounds(0, 3).set_stride(1);
        rgb.dim(1).set_stride(3);
        x.dim(0).set_bounds(0, crop);
        x.dim(1).set_bounds(0, crop);
        x.dim(2).set_bounds(0, 3);
        x.set_estimates({{0, crop}, {0, crop}, {0, 3}, {0, 1}});
        rgb.set_estimates({{0, 3}, {0, 256}, {0, 256}});

        // Schedule: rows in parallel (on the same thread pool as the trunk),
        // 16 pixels per vector.
        x.bound(c, 0, 3).unroll(c).reorder(i, c, j, n).parallel(j).vectorize(i, 16);
    }
};

}  // namespace

HALIDE_REGISTER_GENERATOR(VisePreprocess, vise_preprocess)
