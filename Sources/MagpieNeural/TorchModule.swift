import MagpieCore
import TorchBridge

/// A TorchScript module loaded through TorchBridge. Not thread-safe: one thread uses it at a time
/// (the daemon's processing thread, or a command).
public final class TorchModule {
    public let path: String
    private let handle: OpaquePointer

    /// Threads LibTorch uses per operation, process-wide.
    public static var threads: Int {
        get { Int(tb_threads()) }
        set { tb_set_threads(Int32(newValue)) }
    }

    /// Loads a TorchScript file; LibTorch's own message on failure (a corrupt or foreign file).
    public init(path: String) throws {
        self.path = path
        let loaded = withErrorBuffer { tb_load(path, $0, $1) }
        guard let model = loaded.value else { throw NeuralError.modelFile(path: path, reason: "LibTorch cannot load it: \(loaded.error)") }
        handle = model
    }

    deinit { tb_free(handle) }

    /// Freezes the module and applies LibTorch's inference passes (torch.jit.optimize_for_inference);
    /// afterwards only `forward` runs. On failure the module is left as loaded and the error says why.
    public func optimizeForInference() throws {
        let status = withErrorBuffer { tb_optimize_for_inference(handle, $0, $1) }
        guard status.value == 0 else { throw NeuralError.torch(model: path, message: status.error) }
    }

    /// `method` (default forward) on one Float32 tensor, without gradients. `capacity` bounds the
    /// output's element count (default: four times the input's, at least 65 536).
    public func run(_ input: NDArray<Float>, method: String = "forward", capacity: Int? = nil) throws -> NDArray<Float> {
        let capacity = capacity ?? max(input.count * 4, 1 << 16)
        var shape = [Int64](repeating: 0, count: Int(TB_MAX_RANK))
        var rank: Int32 = 0
        let dims = input.shape.map(Int64.init)
        let output = try [Float](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            let status = withErrorBuffer { error, size in
                input.storage.withUnsafeBufferPointer { x in
                    tb_run(handle, method, x.baseAddress, dims, Int32(dims.count), buffer.baseAddress, Int64(capacity), &shape, &rank, error, size)
                }
            }
            guard status.value == 0 else { throw NeuralError.torch(model: path, message: status.error) }
            initialized = NDArray<Float>.count(of: shape.prefix(Int(rank)).map(Int.init))
        }
        return NDArray(shape: shape.prefix(Int(rank)).map(Int.init), storage: output)
    }

    /// One Adam step on `lossMethod(input, target)`; returns the loss before the step.
    public func trainStep(input: NDArray<Float>, target: NDArray<Float>, lossMethod: String, learningRate: Double) throws -> Double {
        try withPair(input, target) { x, y, dims, loss, error, size in
            tb_train_step(handle, lossMethod, x, y, dims, Int32(input.rank), learningRate, loss, error, size)
        }
    }

    /// `lossMethod(input, target)` in evaluation mode.
    public func loss(input: NDArray<Float>, target: NDArray<Float>, lossMethod: String) throws -> Double {
        try withPair(input, target) { x, y, dims, loss, error, size in
            tb_loss(handle, lossMethod, x, y, dims, Int32(input.rank), loss, error, size)
        }
    }

    /// Writes the module, trained parameters included, as TorchScript.
    public func save(to path: String) throws {
        let status = withErrorBuffer { tb_save(handle, path, $0, $1) }
        guard status.value == 0 else { throw NeuralError.modelFile(path: path, reason: "cannot be written: \(status.error)") }
    }

    private func withPair(_ input: NDArray<Float>, _ target: NDArray<Float>,
                          _ body: (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Int64>, UnsafeMutablePointer<Double>,
                                   UnsafeMutablePointer<CChar>, Int) -> Int32) throws -> Double {
        guard input.shape == target.shape else {
            throw NeuralError.shape(model: path, reason: "input \(input.shape) and target \(target.shape) differ")
        }
        var loss = 0.0
        let dims = input.shape.map(Int64.init)
        let status = withErrorBuffer { error, size in
            input.storage.withUnsafeBufferPointer { x in
                target.storage.withUnsafeBufferPointer { y in body(x.baseAddress, y.baseAddress, dims, &loss, error, size) }
            }
        }
        guard status.value == 0 else { throw NeuralError.torch(model: path, message: status.error) }
        return loss
    }
}

/// Calls `body` with a zeroed C error buffer; its result and the message it left there.
private func withErrorBuffer<T>(_ body: (UnsafeMutablePointer<CChar>, Int) -> T) -> (value: T, error: String) {
    var buffer = [CChar](repeating: 0, count: 2048)
    let value = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return (value, message.isEmpty ? "no message" : message)
}
