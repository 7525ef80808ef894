import MagpieCore
import Testing

@Suite struct NDArrayTests {
    @Test func rowMajorIndexingMatchesMDFStorageOrder() {
        var array = NDArray(shape: [2, 3, 4], storage: Array(0..<24))
        #expect(array.strides == [12, 4, 1])
        #expect(array[1, 2, 3] == 23)
        #expect(array[0, 1, 0] == 4)
        array[1, 0, 2] = -1
        #expect(array.storage[14] == -1)
        #expect(array.reshaped([6, 4])[3, 2] == -1)
    }

    @Test func scalarsAndVectors() {
        let scalar = NDArray(scalar: 2.5)
        #expect(scalar.rank == 0 && scalar.count == 1 && scalar.shape == [])
        let vector = NDArray([1, 2, 3])
        #expect(vector.shape == [3])
        #expect(vector.map { $0 * 2 }.storage == [2, 4, 6])
        #expect(NDArray<Int>(repeating: 0, shape: [0, 5]).count == 0)
    }
}

@Suite struct ResampleTests {
    @Test func identityConstantAndRamp() {
        let ramp = NDArray(shape: [4, 6], storage: (0..<24).map { Double($0 % 6) })
        #expect(ramp.resampled(rows: 4, columns: 6) == ramp)
        let constant = NDArray<Double>(repeating: 2.5, shape: [7, 5]).resampled(rows: 13, columns: 9)
        #expect(constant.shape == [13, 9] && constant.storage.allSatisfy { abs($0 - 2.5) < 1e-12 })
        // Pixel centres map to pixel centres: doubling a ramp x -> x/2 - 1/4 inside the edges.
        let doubled = ramp.resampled(rows: 8, columns: 12)
        for i in 1..<11 { #expect(abs(doubled[3, i] - (Double(i) / 2 - 0.25)) < 1e-12) }
        #expect(doubled[0, 0] == 0 && doubled[0, 11] == 5)
        // Halving and doubling back keeps a linear ramp away from the edges.
        let back = doubled.resampled(rows: 4, columns: 6)
        for i in 1..<5 { #expect(abs(back[1, i] - ramp[1, i]) < 1e-12) }
    }
}
