// TorchBridge: a plain C API over LibTorch's TorchScript runtime for Swift.
// No C++ exception crosses this boundary: every failing call returns non-zero (or NULL) and writes
// LibTorch's message into the caller's error buffer. A model is used by one thread at a time.
#ifndef TORCH_BRIDGE_H
#define TORCH_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TB_MAX_RANK 8

typedef struct TBModel TBModel;

/// Threads LibTorch uses inside one operation (intra-op), for the whole process.
void tb_set_threads(int threads);
int tb_threads(void);

/// Loads a TorchScript file on the CPU, in evaluation mode. NULL on failure.
TBModel *tb_load(const char *path, char *error, size_t error_size);
void tb_free(TBModel *model);

/// torch.jit.optimize_for_inference on a loaded model: parameters frozen into the graph, LibTorch's
/// inference passes applied; only forward remains (no training afterwards). 0 on success, the model
/// unchanged otherwise.
int tb_optimize_for_inference(TBModel *model, char *error, size_t error_size);

/// Runs `method` (usually "forward") on one Float32 tensor of `shape` (row-major, `rank` <= 8)
/// without gradients. The result must be a Float32 tensor of at most `capacity` elements: it is
/// copied to `output`, its shape to `output_shape` and rank to `output_rank`. 0 on success.
int tb_run(TBModel *model, const char *method, const float *input, const int64_t *shape, int rank,
           float *output, int64_t capacity, int64_t *output_shape, int *output_rank,
           char *error, size_t error_size);

/// One optimisation step: `loss_method(input, target)` (two Float32 tensors of `shape`) must
/// return a scalar; its gradient updates the parameters with Adam at `learning_rate`. The Adam
/// state lives with the model (created at the first step). Writes the loss before the step.
int tb_train_step(TBModel *model, const char *loss_method, const float *input, const float *target,
                  const int64_t *shape, int rank, double learning_rate, double *loss,
                  char *error, size_t error_size);

/// Evaluates `loss_method(input, target)` in evaluation mode without a step.
int tb_loss(TBModel *model, const char *loss_method, const float *input, const float *target,
            const int64_t *shape, int rank, double *loss, char *error, size_t error_size);

/// Writes the module (with any trained parameters) as a TorchScript file.
int tb_save(TBModel *model, const char *path, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
