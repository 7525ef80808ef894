import Foundation
import MagpieCore

/// Reads MDF v2 files into `MDFFile`.
///
/// Policy: a missing field is read as a neutral default (empty string, zero, nil) and left for
/// `MDFValidator` to report; a present field that cannot mean what the spec says (a string where
/// a number belongs, data of the wrong rank, flags whose length disagrees with the frames) is an
/// `MDFError.invalidField` naming its path. Known quirks of files in the field are accepted:
/// version 2.0.x, `/acquisition/numPeriods`, `/measurement/isTransposed`, a divider stored as
/// (1, D), scalar tracer fields and a scalar waveform.
public enum MDFReader {
    public struct Options: Sendable {
        /// Without data, `/measurement/data` and `/reconstruction/data` come back as
        /// `.notLoaded` with their shape and type; everything else is read.
        public var loadData: Bool

        public init(loadData: Bool = true) { self.loadData = loadData }
    }

    public static func read(_ path: String, options: Options = Options()) throws -> MDFFile {
        do {
            let file = try HDF5File.open(path)
            return try read(file, options: options)
        } catch let error as HDF5Error {
            throw MDFError.hdf5(error)
        }
    }

    public static func read(_ file: HDF5File, options: Options = Options()) throws -> MDFFile {
        let fields = FieldReader(file: file)
        let acquisition = try readAcquisition(fields)
        var mdf = MDFFile(
            time: try fields.string("/time") ?? "",
            uuid: try fields.string("/uuid") ?? "",
            version: try fields.string("/version") ?? "",
            study: MDF.Study(
                name: try fields.string("/study/name") ?? "",
                number: try fields.int64("/study/number") ?? 0,
                uuid: try fields.string("/study/uuid") ?? "",
                description: try fields.string("/study/description") ?? "",
                time: try fields.string("/study/time")),
            experiment: MDF.Experiment(
                name: try fields.string("/experiment/name") ?? "",
                number: try fields.int64("/experiment/number") ?? 0,
                uuid: try fields.string("/experiment/uuid") ?? "",
                description: try fields.string("/experiment/description") ?? "",
                subject: try fields.string("/experiment/subject") ?? "",
                isSimulation: try fields.flag("/experiment/isSimulation") ?? false),
            scanner: MDF.Scanner(
                facility: try fields.string("/scanner/facility") ?? "",
                manufacturer: try fields.string("/scanner/manufacturer") ?? "",
                name: try fields.string("/scanner/name") ?? "",
                operator: try fields.string("/scanner/operator") ?? "",
                topology: try fields.string("/scanner/topology") ?? "",
                boreSize: try fields.double("/scanner/boreSize")),
            acquisition: acquisition)
        if file.exists("/tracer") { mdf.tracer = try readTracer(fields) }
        if file.exists("/measurement") { mdf.measurement = try readMeasurement(fields, options) }
        if file.exists("/calibration") { mdf.calibration = try readCalibration(fields) }
        if file.exists("/reconstruction") { mdf.reconstruction = try readReconstruction(fields, options) }
        return mdf
    }

    private static func readAcquisition(_ fields: FieldReader) throws -> MDF.Acquisition {
        let d = "/acquisition/drivefield"
        let numChannels = try fields.int("\(d)/numChannels") ?? 0
        var divider = try fields.array("\(d)/divider", as: Int64.self) ?? NDArray(shape: [0, 0], storage: [])
        // Quirk: Bruker-converted files store D x F = (D, 1) as (1, D); a bare vector means F = 1.
        if divider.rank == 1 || (divider.rank == 2 && divider.shape[0] == 1 && divider.shape[1] == numChannels && numChannels > 1) {
            divider = divider.reshaped([divider.count, 1])
        }
        guard divider.rank == 2 else {
            throw fields.invalid("\(d)/divider", expected: "a D x F array", found: "shape \(divider.shape)")
        }
        let dfShape = divider.shape
        let periods = try fields.int("/acquisition/numPeriodsPerFrame") ?? (try fields.int("/acquisition/numPeriods")) ?? 1
        let perPeriodShape = [periods] + dfShape
        let phase = try fields.array("\(d)/phase", as: Double.self, reshapedTo: perPeriodShape) ?? NDArray(repeating: 0, shape: perPeriodShape)
        let strength = try fields.array("\(d)/strength", as: Double.self, reshapedTo: perPeriodShape) ?? NDArray(repeating: 0, shape: perPeriodShape)
        var waveform = try fields.strings("\(d)/waveform") ?? NDArray(repeating: "", shape: dfShape)
        if waveform.count == 1 && dfShape != waveform.shape {
            waveform = NDArray(repeating: waveform.storage[0], shape: dfShape) // quirk: one scalar for all
        } else if waveform.shape != dfShape {
            guard waveform.count == divider.count else {
                throw fields.invalid("\(d)/waveform", expected: "D x F = \(dfShape)", found: "shape \(waveform.shape)")
            }
            waveform = waveform.reshaped(dfShape)
        }
        let driveField = MDF.DriveField(
            baseFrequency: try fields.double("\(d)/baseFrequency") ?? 0,
            cycle: try fields.double("\(d)/cycle") ?? 0,
            divider: divider, numChannels: numChannels, phase: phase, strength: strength, waveform: waveform)

        let r = "/acquisition/receiver"
        let channels = try fields.int("\(r)/numChannels") ?? 0
        let samples = try fields.int("\(r)/numSamplingPoints") ?? 0
        let receiver = MDF.Receiver(
            bandwidth: try fields.double("\(r)/bandwidth") ?? 0,
            numChannels: channels,
            numSamplingPoints: samples,
            unit: try fields.string("\(r)/unit") ?? "",
            dataConversionFactor: try fields.array("\(r)/dataConversionFactor", as: Double.self, reshapedTo: [channels, 2]),
            inductionFactor: try fields.array("\(r)/inductionFactor", as: Double.self, reshapedTo: [channels])?.storage,
            transferFunction: try fields.array("\(r)/transferFunction", as: Complex<Double>.self))

        return MDF.Acquisition(
            numAverages: try fields.int("/acquisition/numAverages") ?? 1,
            numFrames: try fields.int("/acquisition/numFrames") ?? 0,
            numPeriodsPerFrame: periods,
            startTime: try fields.string("/acquisition/startTime") ?? "",
            // Older files store gradient and offsetField in other layouts; only the spec's rank is kept.
            gradient: try fields.array("/acquisition/gradient", as: Double.self).flatMap { $0.rank == 4 ? $0 : nil },
            offsetField: try fields.array("/acquisition/offsetField", as: Double.self).flatMap { $0.rank == 3 ? $0 : nil },
            driveField: driveField, receiver: receiver)
    }

    private static func readTracer(_ fields: FieldReader) throws -> MDF.Tracer {
        // The spec stores one entry per tracer (String[A]); older files store scalars.
        MDF.Tracer(
            batch: try fields.strings("/tracer/batch")?.storage ?? [],
            name: try fields.strings("/tracer/name")?.storage ?? [],
            solute: try fields.strings("/tracer/solute")?.storage ?? [],
            vendor: try fields.strings("/tracer/vendor")?.storage ?? [],
            concentration: try fields.array("/tracer/concentration", as: Double.self)?.storage ?? [],
            volume: try fields.array("/tracer/volume", as: Double.self)?.storage ?? [],
            injectionTime: try fields.strings("/tracer/injectionTime")?.storage)
    }

    private static func readMeasurement(_ fields: FieldReader, _ options: MDFReader.Options) throws -> MDF.Measurement {
        let m = "/measurement"
        let isFourier = try fields.flag("\(m)/isFourierTransformed") ?? false
        // Quirk: early MDF 2.0 files call isFastFrameAxis isTransposed.
        let isFastFrameAxis = try fields.flag("\(m)/isFastFrameAxis") ?? (try fields.flag("\(m)/isTransposed")) ?? false
        let data = try fields.data("\(m)/data", rank: 4, letters: isFastFrameAxis ? "J x C x K x N" : "N x J x C x V/K", load: options.loadData)
        if isFourier != data.elementType.isComplex {
            throw fields.invalid("\(m)/data", expected: isFourier ? "complex data (isFourierTransformed is 1)" : "real data (isFourierTransformed is 0)",
                                 found: data.elementType.rawValue)
        }
        let frames = isFastFrameAxis ? data.shape[3] : data.shape[0]
        var background = [Bool](repeating: false, count: frames)
        if let stored = try fields.array("\(m)/isBackgroundFrame", as: Int8.self) {
            guard stored.rank == 1, stored.count == frames else {
                throw fields.invalid("\(m)/isBackgroundFrame", expected: "one flag per frame (N = \(frames))", found: "shape \(stored.shape)")
            }
            background = stored.storage.map { $0 != 0 }
        }
        let isFramePermutation = try fields.flag("\(m)/isFramePermutation") ?? false
        let isFrequencySelection = try fields.flag("\(m)/isFrequencySelection") ?? false
        let isSparsityTransformed = try fields.flag("\(m)/isSparsityTransformed") ?? false
        var transformation: String?, subsampling: NDArray<Int64>?
        if isSparsityTransformed {
            guard isFastFrameAxis, isFourier else {
                throw fields.invalid("\(m)/isSparsityTransformed", expected: "compression of Fourier-transformed, frame-fastest data (J x C x K x (B + E))",
                                     found: "isFastFrameAxis \(isFastFrameAxis ? 1 : 0), isFourierTransformed \(isFourier ? 1 : 0)")
            }
            transformation = try fields.string("\(m)/sparsityTransformation")
            guard let indices = try fields.array("\(m)/subsamplingIndices", as: Int64.self) else {
                throw fields.invalid("\(m)/subsamplingIndices", expected: "J x C x K x B indices (isSparsityTransformed is 1)", found: "nothing")
            }
            let background = background.filter { $0 }.count
            guard indices.rank == 4, Array(indices.shape.prefix(3)) == Array(data.shape.prefix(3)), indices.shape[3] + background == frames else {
                throw fields.invalid("\(m)/subsamplingIndices", expected: "J x C x K x B with data J x C x K x (B + E), E = \(background) background frames",
                                     found: "shape \(indices.shape) with data \(data.shape)")
            }
            subsampling = indices
        }
        return MDF.Measurement(
            data: data,
            isBackgroundFrame: background,
            isBackgroundCorrected: try fields.flag("\(m)/isBackgroundCorrected") ?? false,
            isFastFrameAxis: isFastFrameAxis,
            isFourierTransformed: isFourier,
            isSparsityTransformed: isSparsityTransformed,
            isSpectralLeakageCorrected: try fields.flag("\(m)/isSpectralLeakageCorrected") ?? false,
            isTransferFunctionCorrected: try fields.flag("\(m)/isTransferFunctionCorrected") ?? false,
            framePermutation: isFramePermutation ? try fields.array("\(m)/framePermutation", as: Int64.self)?.storage : nil,
            frequencySelection: isFrequencySelection ? try fields.array("\(m)/frequencySelection", as: Int64.self)?.storage : nil,
            sparsityTransformation: transformation, subsamplingIndices: subsampling)
    }

    private static func readCalibration(_ fields: FieldReader) throws -> MDF.Calibration {
        let c = "/calibration"
        let size = try fields.array("\(c)/size", as: Int64.self, reshapedTo: [3])?.storage.map { Int($0) } ?? []
        // A grid whose position count does not fit an Int is no calibration (and would trap below).
        let positions = size.count == 3 ? MDF.Calibration.positionCount(size) : nil
        if size.count == 3 && positions == nil {
            throw fields.invalid("\(c)/size", expected: "three extents whose product is a count of grid positions", found: "\(size)")
        }
        return MDF.Calibration(
            method: try fields.string("\(c)/method") ?? "",
            size: size,
            fieldOfView: try fields.array("\(c)/fieldOfView", as: Double.self, reshapedTo: [3])?.storage ?? [],
            fieldOfViewCenter: try fields.array("\(c)/fieldOfViewCenter", as: Double.self, reshapedTo: [3])?.storage ?? [],
            order: try fields.string("\(c)/order") ?? "",
            positions: try fields.array("\(c)/positions", as: Double.self, reshapedTo: positions.map { [$0, 3] }),
            deltaSampleSize: try fields.array("\(c)/deltaSampleSize", as: Double.self, reshapedTo: [3])?.storage,
            snr: try fields.array("\(c)/snr", as: Double.self),
            offsetFields: try fields.array("\(c)/offsetFields", as: Double.self),
            isMeanderingGrid: try fields.flag("\(c)/isMeanderingGrid"))
    }

    private static func readReconstruction(_ fields: FieldReader, _ options: MDFReader.Options) throws -> MDF.Reconstruction {
        let r = "/reconstruction"
        let data = try fields.data("\(r)/data", rank: 3, letters: "Q x P x S", load: options.loadData)
        guard !data.elementType.isComplex, data.elementType != .int16, data.elementType != .int32 else {
            throw fields.invalid("\(r)/data", expected: "Float32 or Float64", found: data.elementType.rawValue)
        }
        let voxels = data.shape[1]
        return MDF.Reconstruction(
            data: data,
            fieldOfView: try fields.array("\(r)/fieldOfView", as: Double.self, reshapedTo: [3])?.storage ?? [],
            fieldOfViewCenter: try fields.array("\(r)/fieldOfViewCenter", as: Double.self, reshapedTo: [3])?.storage ?? [],
            size: try fields.array("\(r)/size", as: Int64.self, reshapedTo: [3])?.storage.map { Int($0) } ?? [],
            order: try fields.string("\(r)/order") ?? "",
            positions: try fields.array("\(r)/positions", as: Double.self, reshapedTo: [voxels, 3]),
            isOverscanRegion: try fields.array("\(r)/isOverscanRegion", as: Int8.self, reshapedTo: [voxels])?.storage.map { $0 != 0 })
    }
}

/// Typed, path-named access to optional fields: nil when absent, `MDFError.invalidField` when
/// present with a type or shape that cannot mean what the spec says.
struct FieldReader {
    let file: HDF5File

    func invalid(_ path: String, expected: String, found: String) -> MDFError {
        MDFError.invalidField(file: file.path, path: path, expected: expected, found: found)
    }

    /// nil when nothing is at `path`; the dataset's description otherwise.
    private func present(_ path: String) throws -> HDF5File.DatasetInfo? {
        do {
            switch try file.kind(of: path) {
            case nil: return nil
            case .dataset: return try file.info(path)
            case .some: throw invalid(path, expected: "a dataset", found: "a group")
            }
        } catch let error as HDF5Error {
            throw MDFError.hdf5(error)
        }
    }

    private func scalar<T: HDF5Element>(_ path: String, as type: T.Type, expected: String) throws -> T? {
        guard let info = try present(path) else { return nil }
        guard T.canRead(info.type) else { throw invalid(path, expected: expected, found: info.type.description) }
        guard NDArray<T>.count(of: info.shape) == 1 else {
            throw invalid(path, expected: "a single \(expected)", found: "shape \(info.shape)")
        }
        return try wrap { try file.readScalar(path, as: T.self) }
    }

    func int64(_ path: String) throws -> Int64? { try scalar(path, as: Int64.self, expected: "integer") }
    func int(_ path: String) throws -> Int? {
        guard let value = try int64(path) else { return nil }
        guard value >= 0 && value <= Int64(Int32.max) else {
            throw invalid(path, expected: "a count between 0 and \(Int32.max)", found: "\(value)")
        }
        return Int(value)
    }
    func double(_ path: String) throws -> Double? { try scalar(path, as: Double.self, expected: "number") }
    func flag(_ path: String) throws -> Bool? { try scalar(path, as: Int8.self, expected: "Int8 flag").map { $0 != 0 } }

    func string(_ path: String) throws -> String? {
        guard let strings = try strings(path) else { return nil }
        guard strings.count == 1 else { throw invalid(path, expected: "a single string", found: "shape \(strings.shape)") }
        return strings.storage[0]
    }

    func strings(_ path: String) throws -> NDArray<String>? {
        guard let info = try present(path) else { return nil }
        guard case .string = info.type else { throw invalid(path, expected: "string", found: info.type.description) }
        return try wrap { try file.readStrings(path) }
    }

    /// Reads an array; with `reshapedTo`, the stored array must hold exactly that many elements
    /// (an array stored with another shape of the same count, or a scalar for one element, is accepted).
    func array<T: HDF5Element>(_ path: String, as type: T.Type, reshapedTo shape: [Int]? = nil) throws -> NDArray<T>? {
        guard let info = try present(path) else { return nil }
        guard T.canRead(info.type) else { throw invalid(path, expected: "\(T.self) values", found: info.type.description) }
        if let shape, NDArray<T>.count(of: info.shape) != NDArray<T>.count(of: shape) {
            throw invalid(path, expected: "shape \(shape)", found: "shape \(info.shape)")
        }
        let array = try wrap { try file.read(path, as: T.self) }
        if let shape, array.shape != shape { return array.reshaped(shape) }
        return array
    }

    /// Reads measurement or reconstruction data in its stored element type.
    func data(_ path: String, rank: Int, letters: String, load: Bool) throws -> MDFData {
        guard let info = try present(path) else {
            throw invalid(path, expected: "a \(letters) dataset", found: "nothing")
        }
        guard let elementType = MDFElementType(info.type) else {
            throw invalid(path, expected: "Int16, Int32, Float32, Float64 or complex data", found: info.type.description)
        }
        guard info.shape.count == rank else {
            throw invalid(path, expected: "\(rank) dimensions (\(letters))", found: "shape \(info.shape)")
        }
        guard load else { return .notLoaded(shape: info.shape, elementType: elementType) }
        return try wrap {
            switch elementType {
            case .int16: return .int16(try file.read(path))
            case .int32: return .int32(try file.read(path))
            case .float32: return .float32(try file.read(path))
            case .float64: return .float64(try file.read(path))
            case .complex64: return .complex64(try file.read(path))
            case .complex128: return .complex128(try file.read(path))
            }
        }
    }

    private func wrap<R>(_ body: () throws -> R) throws -> R {
        do { return try body() } catch let error as HDF5Error { throw MDFError.hdf5(error) }
    }
}
