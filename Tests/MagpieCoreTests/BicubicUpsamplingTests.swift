import MagpieCore
import Testing

@Suite struct BicubicUpsamplingTests {
    /// Fine point factor * j is coarse point j: a measured value is never altered.
    @Test(arguments: [2, 4, 8])
    func keepsTheCoarsePoints(factor: Int) {
        let (rows, columns) = (5, 4)
        let image = (0..<(rows * columns)).map { Float(($0 * 37) % 11) - 5 }
        let up = BicubicUpsampling(coarseRows: rows, coarseColumns: columns, factor: factor)
        let fine = up.upsample(image)
        #expect(fine.count == rows * columns * factor * factor)
        for r in 0..<rows {
            for c in 0..<columns { #expect(abs(fine[(r * factor) * columns * factor + c * factor] - image[r * columns + c]) < 1e-5) }
        }
    }

    /// Keys' cubic reproduces a linear function exactly where all four neighbours are inside.
    @Test func reproducesALinearFunctionInside() {
        let n = 6, factor = 4
        let image = (0..<(n * n)).map { Float(2 * ($0 / n) - 3 * ($0 % n)) }
        let fine = BicubicUpsampling(coarseRows: n, coarseColumns: n, factor: factor).upsample(image)
        for i in factor..<((n - 2) * factor) {
            for j in factor..<((n - 2) * factor) {
                let expected = 2 * Float(i) / Float(factor) - 3 * Float(j) / Float(factor)
                #expect(abs(fine[i * n * factor + j] - expected) < 1e-4)
            }
        }
    }

    /// A constant stays constant everywhere, edges included (the weights sum to 1).
    @Test func keepsAConstant() {
        let fine = BicubicUpsampling(coarseRows: 3, coarseColumns: 7, factor: 8).upsample([Float](repeating: 2.5, count: 21))
        #expect(fine.allSatisfy { abs($0 - 2.5) < 1e-5 })
    }
}
