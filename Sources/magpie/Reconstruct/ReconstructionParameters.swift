import MagpieCore
import MagpieMDF
import MagpieReco

/// What `magpie reconstruct` did, stored under /_magpie/reconstruction in its output so that
/// an image can be traced to its inputs and settings.
struct ReconstructionParameters {
    var method: String
    var measurement: String
    var measurementUUID: String
    /// 1-based foreground frames used.
    var frames: [Int64]
    var average: Int
    var systemMatrix: String?
    var systemMatrixUUID: String?
    var selection: FrequencySelection?
    var rows: [FrequencyRow] = []
    var lambda: Double?
    var effectiveLambda: Double?
    var iterations: Int?
    /// The learned model used ("name sha256 ..."), and the sampler's seed.
    var model: String?
    var seed: UInt64?
    /// The deblurring applied to each x-space image (with the model's sha256 for a learned one).
    var deblur: String?
    /// Per image, ||S x - u|| / ||u|| after each iteration.
    var residuals: [[Double]] = []
    var unit = "a.u."
    var seconds = 0.0

    init(method: String, measurement: String, measurementUUID: String, frames: [Int64], average: Int) {
        self.method = method
        self.measurement = measurement
        self.measurementUUID = measurementUUID
        self.frames = frames
        self.average = average
    }

    func write(to file: HDF5File) throws {
        let g = "/_magpie/reconstruction"
        try file.write(method, to: "\(g)/method")
        try file.write("magpie \(MagpieVersion.string)", to: "\(g)/software")
        try file.write(measurement, to: "\(g)/measurement")
        try file.write(measurementUUID, to: "\(g)/measurementUUID")
        try file.write(NDArray(frames), to: "\(g)/frames")
        try file.write(scalar: Int64(average), to: "\(g)/average")
        try file.write(unit, to: "\(g)/unit")
        try file.write(scalar: seconds, to: "\(g)/seconds")
        if let systemMatrix, let systemMatrixUUID {
            try file.write(systemMatrix, to: "\(g)/systemMatrix")
            try file.write(systemMatrixUUID, to: "\(g)/systemMatrixUUID")
        }
        if let selection {
            try file.write(scalar: selection.minFrequency, to: "\(g)/minFrequency")
            if let maxFrequency = selection.maxFrequency { try file.write(scalar: maxFrequency, to: "\(g)/maxFrequency") }
            try file.write(scalar: selection.snrThreshold, to: "\(g)/snrThreshold")
            if let channels = selection.channels { try file.write(NDArray(channels.map { Int64($0 + 1) }), to: "\(g)/channels") }
        }
        if !rows.isEmpty {
            // M x 2: 1-based receive channel and 0-based frequency bin of each row, in solver order.
            try file.write(NDArray(shape: [rows.count, 2], storage: rows.flatMap { [Int64($0.channel + 1), Int64($0.bin)] }), to: "\(g)/rows")
        }
        if let lambda { try file.write(scalar: lambda, to: "\(g)/lambda") }
        if let effectiveLambda { try file.write(scalar: effectiveLambda, to: "\(g)/effectiveLambda") }
        if let iterations { try file.write(scalar: Int64(iterations), to: "\(g)/iterations") }
        if let model { try file.write(model, to: "\(g)/model") }
        if let deblur { try file.write(deblur, to: "\(g)/deblur") }
        if let seed { try file.write(scalar: Int64(bitPattern: seed), to: "\(g)/seed") }
        if let width = residuals.first?.count, width > 0 {
            try file.write(NDArray(shape: [residuals.count, width], storage: residuals.flatMap { $0 }), to: "\(g)/residuals")
        }
    }
}
