/// Cell centres of a grid over a field of view centred on 0, x fastest (MDF order "xyz"),
/// shape O x 3, in the field of view's unit.
public func gridPositions(_ size: [Int], _ fieldOfView: [Double]) -> NDArray<Double> {
    let count = size.reduce(1, *)
    var positions = NDArray<Double>(repeating: 0, shape: [count, 3])
    for index in 0..<count {
        let ijk = [index % size[0], (index / size[0]) % size[1], index / (size[0] * size[1])]
        for axis in 0..<3 {
            let step = fieldOfView[axis] / Double(size[axis])
            positions[index, axis] = (Double(ijk[axis]) + 0.5) * step - fieldOfView[axis] / 2
        }
    }
    return positions
}
