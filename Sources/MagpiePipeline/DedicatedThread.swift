import Foundation

/// Blocking work (the ZeroMQ receive loop, the plan's LibTorch and FFT calls, HDF5 writes) on a
/// thread of its own, awaited from a service: it never holds one of the few threads of Swift's
/// cooperative pool (two on a 2-core machine), which the other services need to stay responsive.
enum DedicatedThread {
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = name
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
