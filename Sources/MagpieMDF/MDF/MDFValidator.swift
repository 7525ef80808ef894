import Foundation
import MagpieCore

/// Lists every deviation of a file from MDF v2.1.0: missing required fields, fields stored with
/// another type or shape than the spec's, fields the spec does not define, and values that
/// contradict each other (frames, flags, grid sizes, times, the drive-field cycle).
public enum MDFValidator {
    /// Deviations of the file at `path`; throws only when the file cannot be opened at all.
    public static func validate(_ path: String) throws -> [MDFDeviation] {
        let file: HDF5File
        do { file = try HDF5File.open(path) } catch let error as HDF5Error { throw MDFError.hdf5(error) }
        return validate(file)
    }

    public static func validate(_ file: HDF5File) -> [MDFDeviation] {
        var deviations: [MDFDeviation] = []
        let letters = axisLengths(file)
        deviations += checkFields(file, letters)
        deviations += unknownFields(file)
        do {
            let mdf = try MDFReader.read(file, options: .init(loadData: false))
            deviations += checkValues(mdf)
        } catch let MDFError.invalidField(_, path, expected, found) {
            deviations.append(MDFDeviation(path, "cannot be interpreted: expected \(expected), found \(found)"))
        } catch {
            deviations.append(MDFDeviation("/", "cannot be read: \(error)"))
        }
        // A field can fail more than one check in the same words; report it once.
        var seen = Set<String>()
        return deviations.filter { seen.insert($0.description).inserted }
    }

    // MARK: - Schema

    /// The spec's axis letters resolved from the file's own scalars and shapes; absent when unknown.
    private static func axisLengths(_ file: HDF5File) -> [String: Int] {
        func int(_ path: String) -> Int? { (try? file.readScalar(path, as: Int64.self)).map { Int($0) } }
        func shape(_ path: String) -> [Int]? { try? file.info(path).shape }
        var letters: [String: Int] = [:]
        letters["N"] = int("/acquisition/numFrames")
        letters["J"] = int("/acquisition/numPeriodsPerFrame")
        letters["C"] = int("/acquisition/receiver/numChannels")
        letters["V"] = int("/acquisition/receiver/numSamplingPoints")
        letters["D"] = int("/acquisition/drivefield/numChannels")
        // F from the divider's element count, so that a divider stored as (1, D) still yields F = 1.
        if let divider = shape("/acquisition/drivefield/divider"), let d = letters["D"], d > 0 {
            letters["F"] = MDF.Calibration.positionCount(divider).map { $0 / d }
        }
        if isSet(file, "/measurement/isFrequencySelection") {
            letters["K"] = shape("/measurement/frequencySelection")?.first
        } else if let v = letters["V"] {
            letters["K"] = v / 2 + 1
        }
        letters["V/2+1"] = letters["V"].map { $0 / 2 + 1 }
        if let size = try? file.read("/calibration/size", as: Int64.self), size.count == 3 {
            letters["O"] = MDF.Calibration.positionCount(size.storage.map { Int($0) })
        }
        if let data = shape("/reconstruction/data"), data.count == 3 {
            (letters["Q"], letters["P"], letters["S"]) = (data[0], data[1], data[2])
        }
        letters["A"] = shape("/tracer/name").map { $0.first ?? 1 }
        letters["Y"] = shape("/acquisition/gradient").flatMap { $0.count == 4 ? $0[1] : nil }
        return letters
    }

    private static func checkFields(_ file: HDF5File, _ letters: [String: Int]) -> [MDFDeviation] {
        var deviations: [MDFDeviation] = []
        for group in MDFSchema.requiredGroups where (try? file.kind(of: group)) != .group {
            deviations.append(MDFDeviation(group, "required group is missing"))
        }
        for field in MDFSchema.fields where (try? file.kind(of: field.group)) == .group {
            guard let info = try? file.info(field.path) else {
                switch field.presence {
                case .required:
                    deviations.append(MDFDeviation(field.path, "required field is missing"))
                case let .whenFlag(flag) where isSet(file, flag):
                    deviations.append(MDFDeviation(field.path, "required because \(flag) is 1, but missing"))
                default:
                    break
                }
                continue
            }
            if field.type == .data {
                deviations += checkData(field.path, info, file, letters)
                continue
            }
            if let problem = typeProblem(expected: field.type, found: info.type) {
                deviations.append(MDFDeviation(field.path, problem))
            }
            if let problem = shapeProblem(expected: field.shape, found: info.shape, letters) {
                deviations.append(MDFDeviation(field.path, problem))
            }
        }
        return deviations
    }

    private static func checkData(_ path: String, _ info: HDF5File.DatasetInfo, _ file: HDF5File, _ letters: [String: Int]) -> [MDFDeviation] {
        var deviations: [MDFDeviation] = []
        let expectedShape: [String]
        let allowed: [MDFElementType]
        if path == "/measurement/data" {
            let fourier = isSet(file, "/measurement/isFourierTransformed")
            let sample = fourier ? "K" : "V"
            expectedShape = isSet(file, "/measurement/isFastFrameAxis") ? ["J", "C", sample, "N"] : ["N", "J", "C", sample]
            allowed = fourier ? [.complex64, .complex128] : [.int16, .int32, .float32, .float64]
        } else {
            expectedShape = ["Q", "P", "S"]
            allowed = [.float32, .float64]
        }
        let type = MDFElementType(info.type)
        if type == nil || !allowed.contains(type!) {
            deviations.append(MDFDeviation(path, "stored as \(info.type), expected one of \(allowed.map(\.rawValue).joined(separator: ", "))"))
        }
        if let problem = shapeProblem(expected: expectedShape, found: info.shape, letters) {
            deviations.append(MDFDeviation(path, problem))
        }
        return deviations
    }

    /// Whether an Int8 flag is present and 1; unreadable flags count as unset (reported elsewhere).
    private static func isSet(_ file: HDF5File, _ path: String) -> Bool {
        ((try? file.readScalar(path, as: Int8.self)) ?? 0) != 0
    }

    private static func typeProblem(expected: MDFField.StoredType, found: HDF5Type) -> String? {
        let matches: Bool
        switch (expected, found) {
        case (.int64, .integer(signed: true, bytes: 8)), (.int8, .integer(signed: true, bytes: 1)),
             (.float64, .float(bytes: 8)), (.string, .string), (.complex128, .complex(bytesPerPart: 8)):
            matches = true
        default:
            matches = false
        }
        return matches ? nil : "stored as \(found), the spec says \(expected)"
    }

    private static func shapeProblem(expected: [String], found: [Int], _ letters: [String: Int]) -> String? {
        let resolved = expected.map { Int($0) ?? letters[$0] }
        let fits = expected.count == found.count && zip(resolved, found).allSatisfy { $0 == nil || $0 == $1 }
        if fits { return nil }
        let expectedText = expected.isEmpty ? "a scalar" :
            expected.enumerated().map { index, letter in
                resolved[index].map { Int(letter) == nil ? "\(letter)=\($0)" : "\($0)" } ?? letter
            }.joined(separator: " x ")
        let foundText = found.isEmpty ? "a scalar" : "shape " + found.map(String.init).joined(separator: " x ")
        return "stored as \(foundText), the spec says \(expected.isEmpty ? "" : "shape ")\(expectedText)"
    }

    /// Datasets and groups the spec does not define (user-defined ones start with `_`).
    private static func unknownFields(_ file: HDF5File) -> [MDFDeviation] {
        let known = Set(MDFSchema.fields.map(\.path) + MDFSchema.requiredGroups + MDFSchema.optionalGroups)
        var deviations: [MDFDeviation] = []
        func visit(_ group: String) {
            for name in (try? file.members(of: group)) ?? [] where !name.hasPrefix("_") {
                let path = group == "/" ? "/\(name)" : "\(group)/\(name)"
                if known.contains(path) {
                    if (try? file.kind(of: path)) == .group { visit(path) }
                } else {
                    let hint = MDFSchema.legacyNames[path].map { " (\($0))" } ?? ""
                    deviations.append(MDFDeviation(path, "not part of MDF \(MDF.specVersion)\(hint)"))
                }
            }
        }
        visit("/")
        return deviations
    }

    // MARK: - Values

    private static func checkValues(_ mdf: MDFFile) -> [MDFDeviation] {
        var deviations: [MDFDeviation] = []
        func require(_ condition: Bool, _ path: String, _ message: @autoclosure () -> String) {
            if !condition { deviations.append(MDFDeviation(path, message())) }
        }
        require(mdf.version == MDF.specVersion, "/version", "is \"\(mdf.version)\", expected \"\(MDF.specVersion)\"")
        for (path, time) in [("/time", mdf.time), ("/acquisition/startTime", mdf.acquisition.startTime)] + (mdf.study.time.map { [("/study/time", $0)] } ?? []) {
            require(time.isEmpty || MDF.isTimestamp(time), path, "\"\(time)\" is not of the form yyyy-mm-ddThh:mm:ss.ms")
        }
        for (path, uuid) in [("/uuid", mdf.uuid), ("/study/uuid", mdf.study.uuid), ("/experiment/uuid", mdf.experiment.uuid)] {
            require(uuid.isEmpty || UUID(uuidString: uuid) != nil, path, "\"\(uuid)\" is not a UUID")
        }
        require(mdf.scanner.topology.isEmpty || ["FFP", "FFL", "MPS"].contains(mdf.scanner.topology),
                "/scanner/topology", "is \"\(mdf.scanner.topology)\", expected FFP, FFL or MPS")

        let acquisition = mdf.acquisition
        let drive = acquisition.driveField
        if drive.baseFrequency > 0, !drive.divider.storage.isEmpty, drive.divider.storage.allSatisfy({ $0 > 0 }) {
            // Channels that are off (strength 0 throughout) do not count (MPIFiles' reading of the spec).
            if let expected = MDF.DriveField.cycle(baseFrequency: drive.baseFrequency, divider: drive.divider, strength: drive.strength) {
                require(abs(drive.cycle - expected) <= 1e-9 * max(expected, 1e-12) + 1e-15, "/acquisition/drivefield/cycle",
                        "is \(drive.cycle) s, but lcm(divider of the active channels) / baseFrequency = \(expected) s")
            } else if !drive.activeChannels.isEmpty {
                deviations.append(MDFDeviation("/acquisition/drivefield/divider", "the least common multiple of the dividers exceeds 2^63"))
            }
        }
        require(acquisition.numAverages >= 1, "/acquisition/numAverages", "is \(acquisition.numAverages), expected at least 1")
        if let tracer = mdf.tracer {
            let counts = [tracer.batch.count, tracer.solute.count, tracer.vendor.count, tracer.concentration.count, tracer.volume.count]
            require(counts.allSatisfy { $0 == tracer.count }, "/tracer", "fields have different numbers of tracers")
        }

        if let measurement = mdf.measurement {
            let frames = measurement.numFrames
            if let permutation = measurement.framePermutation {
                require(permutation.sorted() == (1...Int64(max(frames, 1))).map { $0 } || frames == 0, "/measurement/framePermutation",
                        "is not a permutation of 1...\(frames)")
            } else if let firstBackground = measurement.isBackgroundFrame.firstIndex(of: true) {
                require(!measurement.isBackgroundFrame[firstBackground...].contains(false), "/measurement/isBackgroundFrame",
                        "background frames must come after all foreground frames (or be reordered by framePermutation)")
            }
            if let selection = measurement.frequencySelection {
                let k = acquisition.receiver.numFrequencies
                require(selection.allSatisfy { $0 >= 1 && $0 <= k }, "/measurement/frequencySelection",
                        "holds indices outside 1...\(k) (1-based, V/2+1 frequencies)")
            }
            if let calibration = mdf.calibration, measurement.isSparsityTransformed {
                let kept = frames - measurement.numBackgroundFrames, positions = calibration.numPositions
                require(kept >= 1 && kept <= positions, "/measurement/subsamplingIndices",
                        "\(kept) coefficients kept per row, but the calibration grid has \(positions) positions")
                if let indices = measurement.subsamplingIndices {
                    require(indices.storage.allSatisfy { $0 >= 1 && $0 <= Int64(positions) }, "/measurement/subsamplingIndices",
                            "holds indices outside 1...\(positions) (1-based grid positions)")
                }
                let transforms = ["DCT-I", "DCT-II", "DCT-III", "DCT-IV"]
                require(transforms.contains(measurement.sparsityTransformation ?? ""), "/measurement/sparsityTransformation",
                        "is \"\(measurement.sparsityTransformation ?? "")\"; the spec names \(transforms.joined(separator: ", "))")
            } else if let calibration = mdf.calibration, calibration.size.count == 3 {
                let foreground = frames - measurement.numBackgroundFrames
                require(foreground == calibration.numPositions, "/measurement/isBackgroundFrame",
                        "\(foreground) foreground frames, but the calibration grid \(calibration.size.map(String.init).joined(separator: " x ")) has \(calibration.numPositions) positions")
            }
        }
        if let calibration = mdf.calibration {
            require(["robot", "hybrid", "simulation"].contains(calibration.method), "/calibration/method",
                    "is \"\(calibration.method)\", expected robot, hybrid or simulation")
            require(calibration.size.allSatisfy { $0 >= 1 }, "/calibration/size", "has extents below 1: \(calibration.size)")
            require(mdf.measurement != nil, "/measurement", "a system matrix needs its measurement group")
        }
        if let reconstruction = mdf.reconstruction, reconstruction.size.count == 3 {
            let voxels = MDF.Calibration.positionCount(reconstruction.size)
            require(voxels == reconstruction.data.shape[1], "/reconstruction/size",
                    "\(reconstruction.size) makes \(voxels.map(String.init) ?? "more than 2^63") voxels, data has P = \(reconstruction.data.shape[1])")
        }
        return deviations
    }
}
