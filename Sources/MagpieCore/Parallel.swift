import Foundation

/// A buffer that parallel workers write at disjoint indices. The caller guarantees that no two
/// workers touch the same element; that is what makes the `@unchecked Sendable` sound.
public struct DisjointWrites<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>

    public init(_ base: UnsafeMutablePointer<Element>) { self.base = base }

    @inlinable public subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }
}

/// Runs `body(i)` for i in 0..<count on all cores and returns when all are done.
public func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count == 1 { return body(0) }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
}

/// Fills an array of `count` elements in parallel chunks; `body` writes indices of its chunk only.
public func parallelFill<Element>(count: Int, repeating value: Element, chunks: Int = 8 * ProcessInfo.processInfo.activeProcessorCount,
                                  _ body: @Sendable (Range<Int>, DisjointWrites<Element>) -> Void) -> [Element] {
    var result = [Element](repeating: value, count: count)
    let chunkCount = max(1, min(chunks, count))
    result.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        let shared = DisjointWrites(base)
        parallelFor(chunkCount) { chunk in
            let lower = count * chunk / chunkCount, upper = count * (chunk + 1) / chunkCount
            body(lower..<upper, shared)
        }
    }
    return result
}

/// `body(i)` for i in 0..<count on all cores, results in order; the first error (by index) is rethrown.
public func parallelMap<T>(_ count: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
    let results = parallelFill(count: count, repeating: Result<T, any Error>?.none, chunks: count) { range, out in
        for i in range { out[i] = Result { try body(i) } }
    }
    return try results.map { try $0!.get() }
}
