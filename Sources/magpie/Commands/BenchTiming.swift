import Foundation

/// Seconds from `a` to `b` (now by default), for the bench commands.
func seconds(_ a: DispatchTime, _ b: DispatchTime = .now()) -> Double {
    Double(b.uptimeNanoseconds - a.uptimeNanoseconds) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Wall time of `body`, the median of `repeats` runs.
func timed(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now()
        try body()
        times.append(seconds(start))
    }
    return median(times)
}
