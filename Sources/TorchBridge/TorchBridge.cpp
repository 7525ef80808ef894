// TorchBridge: LibTorch's TorchScript runtime behind a C API (see include/TorchBridge.h).
#include "TorchBridge.h"

#include <torch/script.h>
#include <torch/optim/adam.h>
#include <ATen/Parallel.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

struct TBModel {
    torch::jit::Module module;
    std::unique_ptr<torch::optim::Adam> adam;
};

namespace {

void report(char *error, size_t size, const std::string &message) {
    if (error == nullptr || size == 0) return;
    std::strncpy(error, message.c_str(), size - 1);
    error[size - 1] = '\0';
}

// Runs `body`; a C++ exception becomes status 1 and its message in `error`.
template <typename Body> int guarded(char *error, size_t size, Body body) {
    try {
        body();
        return 0;
    } catch (const c10::Error &e) {
        report(error, size, e.what_without_backtrace());
    } catch (const std::exception &e) {
        report(error, size, e.what());
    } catch (...) {
        report(error, size, "unknown C++ exception in LibTorch");
    }
    return 1;
}

// A tensor over the caller's buffer (not copied; used only during the call).
torch::Tensor view(const float *data, const int64_t *shape, int rank) {
    if (data == nullptr || shape == nullptr) throw std::invalid_argument("null input buffer or shape");
    if (rank < 1 || rank > TB_MAX_RANK) throw std::invalid_argument("input rank " + std::to_string(rank) + " is not 1 to 8");
    std::vector<int64_t> sizes(shape, shape + rank);
    for (auto s : sizes)
        if (s < 1) throw std::invalid_argument("input shape has a dimension of " + std::to_string(s));
    return torch::from_blob(const_cast<float *>(data), sizes, torch::kFloat32);
}

torch::jit::Method method(TBModel *model, const char *name) {
    if (model == nullptr) throw std::invalid_argument("no model");
    if (name == nullptr) throw std::invalid_argument("no method name");
    auto found = model->module.find_method(name);
    if (!found) throw std::invalid_argument(std::string("the module has no method '") + name + "'");
    return *found;
}

double scalar(const c10::IValue &value) {
    if (!value.isTensor()) throw std::runtime_error("the loss method did not return a tensor");
    auto t = value.toTensor();
    if (t.numel() != 1) throw std::runtime_error("the loss method returned " + std::to_string(t.numel()) + " values, not a scalar");
    return t.item<double>();
}

}  // namespace

extern "C" {

void tb_set_threads(int threads) {
    if (threads > 0) at::set_num_threads(threads);
}

int tb_threads(void) { return at::get_num_threads(); }

TBModel *tb_load(const char *path, char *error, size_t error_size) {
    TBModel *result = nullptr;
    guarded(error, error_size, [&] {
        if (path == nullptr) throw std::invalid_argument("no path");
        auto model = std::make_unique<TBModel>();
        model->module = torch::jit::load(path, torch::kCPU);
        model->module.eval();
        result = model.release();
    });
    return result;
}

int tb_optimize_for_inference(TBModel *model, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        // Freezes the parameters into the graph and applies LibTorch's inference passes (folding,
        // fusion); the module keeps forward only.
        model->module = torch::jit::optimize_for_inference(model->module);
    });
}

void tb_free(TBModel *model) { delete model; }

int tb_run(TBModel *model, const char *name, const float *input, const int64_t *shape, int rank,
           float *output, int64_t capacity, int64_t *output_shape, int *output_rank,
           char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        auto run = method(model, name);
        auto x = view(input, shape, rank);
        c10::InferenceMode guard;
        auto value = run({x});
        if (!value.isTensor()) throw std::runtime_error(std::string("method '") + name + "' did not return a tensor");
        auto y = value.toTensor().contiguous();
        if (y.scalar_type() != torch::kFloat32) throw std::runtime_error("the output is not Float32");
        if (y.dim() < 1 || y.dim() > TB_MAX_RANK) throw std::runtime_error("output rank " + std::to_string(y.dim()) + " is not 1 to 8");
        if (y.numel() > capacity)
            throw std::runtime_error("output of " + std::to_string(y.numel()) + " values exceeds the buffer of " + std::to_string(capacity));
        std::memcpy(output, y.data_ptr<float>(), sizeof(float) * y.numel());
        *output_rank = static_cast<int>(y.dim());
        for (int64_t i = 0; i < y.dim(); ++i) output_shape[i] = y.size(i);
    });
}

int tb_train_step(TBModel *model, const char *loss_method, const float *input, const float *target,
                  const int64_t *shape, int rank, double learning_rate, double *loss,
                  char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        auto objective = method(model, loss_method);
        auto x = view(input, shape, rank), y = view(target, shape, rank);
        if (!(learning_rate > 0)) throw std::invalid_argument("learning rate must be positive");
        if (!model->adam) {
            std::vector<torch::Tensor> parameters;
            for (const auto &p : model->module.parameters()) parameters.push_back(p);
            model->adam = std::make_unique<torch::optim::Adam>(parameters, torch::optim::AdamOptions(learning_rate));
        }
        for (auto &group : model->adam->param_groups())
            static_cast<torch::optim::AdamOptions &>(group.options()).lr(learning_rate);
        model->module.train(true);
        struct Restore { torch::jit::Module &m; ~Restore() { m.eval(); } } restore{model->module};
        model->adam->zero_grad();
        auto value = objective({x, y});
        double before = scalar(value);
        value.toTensor().backward();
        model->adam->step();
        *loss = before;
    });
}

int tb_loss(TBModel *model, const char *loss_method, const float *input, const float *target,
            const int64_t *shape, int rank, double *loss, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        auto objective = method(model, loss_method);
        auto x = view(input, shape, rank), y = view(target, shape, rank);
        torch::NoGradGuard guard;
        *loss = scalar(objective({x, y}));
    });
}

int tb_save(TBModel *model, const char *path, char *error, size_t error_size) {
    return guarded(error, error_size, [&] {
        if (model == nullptr || path == nullptr) throw std::invalid_argument("no model or path");
        model->module.save(path);
    });
}

}  // extern "C"
