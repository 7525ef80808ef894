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
