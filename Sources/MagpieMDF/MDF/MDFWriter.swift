import Foundation
import MagpieCore

/// Writes `MDFFile` values as MDF v2.1.0. A file is written under a temporary name, validated,
/// and only then renamed into place, so a reader never sees a half-written or invalid file.
public enum MDFWriter {
    /// `userFields` may add user-defined fields (paths starting with `_`) to the file before it
    /// is validated and moved into place. `streamedData` writes every data array given as
    /// `.notLoaded` (shape and type only) in pieces, for data larger than memory (a long scan
    /// appended from its journal); the validator checks it against the declared shape.
    public static func write(_ mdf: MDFFile, to path: String, overwrite: Bool = false,
                             streamedData: ((HDF5File) throws -> Void)? = nil,
                             userFields: ((HDF5File) throws -> Void)? = nil) throws {
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            throw MDFError.hdf5(HDF5Error(file: path, path: nil, message: "already exists (refusing to overwrite)"))
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(MDF.newUUID().prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        do {
            let file = try HDF5File.create(temporary)
            try writeContents(of: mdf, to: file, streamed: streamedData != nil)
            try streamedData?(file)
            try userFields?(file)
        } catch let error as HDF5Error {
            throw MDFError.hdf5(HDF5Error(file: path, path: error.path, message: error.message))
        }
        let deviations = try MDFValidator.validate(temporary)
        guard deviations.isEmpty else { throw MDFError.notValid(file: path, deviations: deviations) }
        guard rename(temporary, path) == 0 else {
            throw MDFError.hdf5(HDF5Error(file: path, path: nil, message: "cannot move into place: \(String(cString: strerror(errno)))"))
        }
    }

    /// Writes every group of `mdf` into an empty file; the file is closed when `file` is released.
    static func writeContents(of mdf: MDFFile, to file: HDF5File, streamed: Bool = false) throws {
        try file.write(mdf.time, to: "/time")
        try file.write(mdf.uuid, to: "/uuid")
        try file.write(mdf.version, to: "/version")

        let study = mdf.study
        try file.write(study.name, to: "/study/name")
        try file.write(scalar: study.number, to: "/study/number")
        try file.write(study.uuid, to: "/study/uuid")
        try file.write(study.description, to: "/study/description")
        if let time = study.time { try file.write(time, to: "/study/time") }

        let experiment = mdf.experiment
        try file.write(experiment.name, to: "/experiment/name")
        try file.write(scalar: experiment.number, to: "/experiment/number")
        try file.write(experiment.uuid, to: "/experiment/uuid")
        try file.write(experiment.description, to: "/experiment/description")
        try file.write(experiment.subject, to: "/experiment/subject")
        try file.write(scalar: flag(experiment.isSimulation), to: "/experiment/isSimulation")

        if let tracer = mdf.tracer {
            try file.write(NDArray(tracer.batch), to: "/tracer/batch")
            try file.write(NDArray(tracer.name), to: "/tracer/name")
            try file.write(NDArray(tracer.solute), to: "/tracer/solute")
            try file.write(NDArray(tracer.vendor), to: "/tracer/vendor")
            try file.write(NDArray(tracer.concentration), to: "/tracer/concentration")
            try file.write(NDArray(tracer.volume), to: "/tracer/volume")
            if let times = tracer.injectionTime { try file.write(NDArray(times), to: "/tracer/injectionTime") }
        }

        let scanner = mdf.scanner
        try file.write(scanner.facility, to: "/scanner/facility")
        try file.write(scanner.manufacturer, to: "/scanner/manufacturer")
        try file.write(scanner.name, to: "/scanner/name")
        try file.write(scanner.operator, to: "/scanner/operator")
        try file.write(scanner.topology, to: "/scanner/topology")
        if let bore = scanner.boreSize { try file.write(scalar: bore, to: "/scanner/boreSize") }

        try writeAcquisition(mdf.acquisition, to: file)
        if let measurement = mdf.measurement { try writeMeasurement(measurement, to: file, streamed: streamed) }
        if let calibration = mdf.calibration { try writeCalibration(calibration, to: file) }
        if let reconstruction = mdf.reconstruction { try writeReconstruction(reconstruction, to: file, streamed: streamed) }
    }

    private static func writeAcquisition(_ acquisition: MDF.Acquisition, to file: HDF5File) throws {
        try file.write(scalar: Int64(acquisition.numAverages), to: "/acquisition/numAverages")
        try file.write(scalar: Int64(acquisition.numFrames), to: "/acquisition/numFrames")
        try file.write(scalar: Int64(acquisition.numPeriodsPerFrame), to: "/acquisition/numPeriodsPerFrame")
        try file.write(acquisition.startTime, to: "/acquisition/startTime")
        if let gradient = acquisition.gradient { try file.write(gradient, to: "/acquisition/gradient") }
        if let offset = acquisition.offsetField { try file.write(offset, to: "/acquisition/offsetField") }

        let drive = acquisition.driveField
        try file.write(scalar: drive.baseFrequency, to: "/acquisition/drivefield/baseFrequency")
        try file.write(scalar: drive.cycle, to: "/acquisition/drivefield/cycle")
        try file.write(drive.divider, to: "/acquisition/drivefield/divider")
        try file.write(scalar: Int64(drive.numChannels), to: "/acquisition/drivefield/numChannels")
        try file.write(drive.phase, to: "/acquisition/drivefield/phase")
        try file.write(drive.strength, to: "/acquisition/drivefield/strength")
        try file.write(drive.waveform, to: "/acquisition/drivefield/waveform")

        let receiver = acquisition.receiver
        try file.write(scalar: receiver.bandwidth, to: "/acquisition/receiver/bandwidth")
        try file.write(scalar: Int64(receiver.numChannels), to: "/acquisition/receiver/numChannels")
        try file.write(scalar: Int64(receiver.numSamplingPoints), to: "/acquisition/receiver/numSamplingPoints")
        try file.write(receiver.unit, to: "/acquisition/receiver/unit")
        if let factor = receiver.dataConversionFactor { try file.write(factor, to: "/acquisition/receiver/dataConversionFactor") }
        if let induction = receiver.inductionFactor { try file.write(NDArray(induction), to: "/acquisition/receiver/inductionFactor") }
        if let transfer = receiver.transferFunction { try file.write(transfer, to: "/acquisition/receiver/transferFunction") }
    }

    private static func writeMeasurement(_ measurement: MDF.Measurement, to file: HDF5File, streamed: Bool) throws {
        let m = "/measurement"
        try writeData(measurement.data, to: "\(m)/data", in: file, streamed: streamed)
        try file.write(scalar: flag(measurement.isBackgroundCorrected), to: "\(m)/isBackgroundCorrected")
        try file.write(scalar: flag(measurement.isFastFrameAxis), to: "\(m)/isFastFrameAxis")
        try file.write(scalar: flag(measurement.isFourierTransformed), to: "\(m)/isFourierTransformed")
        try file.write(scalar: flag(measurement.isFramePermutation), to: "\(m)/isFramePermutation")
        try file.write(scalar: flag(measurement.isFrequencySelection), to: "\(m)/isFrequencySelection")
        try file.write(scalar: flag(measurement.isSparsityTransformed), to: "\(m)/isSparsityTransformed")
        try file.write(scalar: flag(measurement.isSpectralLeakageCorrected), to: "\(m)/isSpectralLeakageCorrected")
        try file.write(scalar: flag(measurement.isTransferFunctionCorrected), to: "\(m)/isTransferFunctionCorrected")
        try file.write(NDArray(measurement.isBackgroundFrame.map(flag)), to: "\(m)/isBackgroundFrame")
        if let permutation = measurement.framePermutation { try file.write(NDArray(permutation), to: "\(m)/framePermutation") }
        if let selection = measurement.frequencySelection { try file.write(NDArray(selection), to: "\(m)/frequencySelection") }
        if let name = measurement.sparsityTransformation { try file.write(name, to: "\(m)/sparsityTransformation") }
        if let indices = measurement.subsamplingIndices { try file.write(indices, to: "\(m)/subsamplingIndices") }
    }

    private static func writeCalibration(_ calibration: MDF.Calibration, to file: HDF5File) throws {
        let c = "/calibration"
        try file.write(calibration.method, to: "\(c)/method")
        try file.write(NDArray(calibration.size.map { Int64($0) }), to: "\(c)/size")
        try file.write(NDArray(calibration.fieldOfView), to: "\(c)/fieldOfView")
        try file.write(NDArray(calibration.fieldOfViewCenter), to: "\(c)/fieldOfViewCenter")
        try file.write(calibration.order, to: "\(c)/order")
        if let positions = calibration.positions { try file.write(positions, to: "\(c)/positions") }
        if let delta = calibration.deltaSampleSize { try file.write(NDArray(delta), to: "\(c)/deltaSampleSize") }
        if let snr = calibration.snr { try file.write(snr, to: "\(c)/snr") }
        if let offsets = calibration.offsetFields { try file.write(offsets, to: "\(c)/offsetFields") }
        if let meandering = calibration.isMeanderingGrid { try file.write(scalar: flag(meandering), to: "\(c)/isMeanderingGrid") }
    }

    private static func writeReconstruction(_ reconstruction: MDF.Reconstruction, to file: HDF5File, streamed: Bool) throws {
        let r = "/reconstruction"
        try writeData(reconstruction.data, to: "\(r)/data", in: file, streamed: streamed)
        try file.write(NDArray(reconstruction.fieldOfView), to: "\(r)/fieldOfView")
        try file.write(NDArray(reconstruction.fieldOfViewCenter), to: "\(r)/fieldOfViewCenter")
        try file.write(NDArray(reconstruction.size.map { Int64($0) }), to: "\(r)/size")
        try file.write(reconstruction.order, to: "\(r)/order")
        if let positions = reconstruction.positions { try file.write(positions, to: "\(r)/positions") }
        if let overscan = reconstruction.isOverscanRegion { try file.write(NDArray(overscan.map(flag)), to: "\(r)/isOverscanRegion") }
    }

    /// `streamed`: `.notLoaded` data is left to the caller's `streamedData`.
    private static func writeData(_ data: MDFData, to path: String, in file: HDF5File, streamed: Bool) throws {
        switch data {
        case let .int16(array): try file.write(array, to: path)
        case let .int32(array): try file.write(array, to: path)
        case let .float32(array): try file.write(array, to: path)
        case let .float64(array): try file.write(array, to: path)
        case let .complex64(array): try file.write(array, to: path)
        case let .complex128(array): try file.write(array, to: path)
        case .notLoaded where streamed:
            return
        case .notLoaded:
            throw MDFError.invalidField(file: file.path, path: path, expected: "data to write", found: "data read without loading (MDFReader.Options.loadData is off)")
        }
    }

    private static func flag(_ value: Bool) -> Int8 { value ? 1 : 0 }
}
