/// Bilinear resampling of a 2D image [rows, columns] onto another grid over the same field of view:
/// pixel centres map to pixel centres (half-pixel convention), edges are clamped.
extension NDArray where Element == Double {
    public func resampled(rows: Int, columns: Int) -> NDArray<Double> {
        precondition(rank == 2 && rows > 0 && columns > 0, "resampling takes a 2D image")
        let (inRows, inColumns) = (shape[0], shape[1])
        if inRows == rows && inColumns == columns { return self }
        func taps(_ n: Int, _ from: Int) -> [(Int, Int, Double)] {
            (0..<n).map { i in
                let x = min(max((Double(i) + 0.5) * Double(from) / Double(n) - 0.5, 0), Double(from - 1))
                let lower = Int(x)
                return (lower, min(lower + 1, from - 1), x - Double(lower))
            }
        }
        let (ys, xs) = (taps(rows, inRows), taps(columns, inColumns))
        var out = [Double](repeating: 0, count: rows * columns)
        for (j, (y0, y1, fy)) in ys.enumerated() {
            for (i, (x0, x1, fx)) in xs.enumerated() {
                let top = storage[y0 * inColumns + x0] * (1 - fx) + storage[y0 * inColumns + x1] * fx
                let bottom = storage[y1 * inColumns + x0] * (1 - fx) + storage[y1 * inColumns + x1] * fx
                out[j * columns + i] = top * (1 - fy) + bottom * fy
            }
        }
        return NDArray(shape: [rows, columns], storage: out)
    }
}
