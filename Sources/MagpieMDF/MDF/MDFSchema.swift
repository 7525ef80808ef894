/// The fields of MDF v2.1.0 as a table: path, stored type, shape in the spec's letters, and
/// whether the field must be present when its group is.
struct MDFField {
    enum StoredType: CustomStringConvertible {
        case int64, float64, int8, string, complex128
        /// /measurement/data and /reconstruction/data: checked against the flags by the validator.
        case data

        var description: String {
            switch self {
            case .int64: return "Int64"
            case .float64: return "Float64"
            case .int8: return "Int8"
            case .string: return "String"
            case .complex128: return "Complex128"
            case .data: return "data"
            }
        }
    }

    enum Presence {
        case required
        case optional
        /// Required exactly when the Int8 flag at this path is 1.
        case whenFlag(String)
    }

    let path: String
    let type: StoredType
    /// Axis letters or fixed extents, e.g. ["J", "D", "F"] or ["3"]; empty for a scalar.
    /// "V/2+1" is the receiver's full frequency count, which frequency selection does not change.
    let shape: [String]
    let presence: Presence

    var group: String {
        let parent = String(path[..<path.lastIndex(of: "/")!])
        return parent.isEmpty ? "/" : parent
    }
}

enum MDFSchema {
    /// Groups every file has; the others are optional, but their fields are required once present.
    static let requiredGroups = ["/study", "/experiment", "/scanner", "/acquisition",
                                 "/acquisition/drivefield", "/acquisition/receiver"]
    static let optionalGroups = ["/tracer", "/measurement", "/calibration", "/reconstruction"]

    /// Names used by earlier versions of the format, and what the spec calls them now.
    static let legacyNames = [
        "/acquisition/numPeriods": "older name of /acquisition/numPeriodsPerFrame",
        "/measurement/isTransposed": "older name of /measurement/isFastFrameAxis",
        "/calibration/isMeanderingGrid": "written by MPIFiles.jl, not part of the spec",
    ]

    static let fields: [MDFField] = {
        func f(_ path: String, _ type: MDFField.StoredType, _ shape: String = "", _ presence: MDFField.Presence = .required) -> MDFField {
            MDFField(path: path, type: type, shape: shape.isEmpty ? [] : shape.split(separator: ",").map(String.init), presence: presence)
        }
        let d = "/acquisition/drivefield", r = "/acquisition/receiver", m = "/measurement"
        return [
            f("/time", .string), f("/uuid", .string), f("/version", .string),
            f("/study/name", .string), f("/study/number", .int64), f("/study/uuid", .string),
            f("/study/description", .string), f("/study/time", .string, "", .optional),
            f("/experiment/name", .string), f("/experiment/number", .int64), f("/experiment/uuid", .string),
            f("/experiment/description", .string), f("/experiment/subject", .string), f("/experiment/isSimulation", .int8),
            f("/tracer/batch", .string, "A"), f("/tracer/name", .string, "A"), f("/tracer/solute", .string, "A"),
            f("/tracer/vendor", .string, "A"), f("/tracer/concentration", .float64, "A"), f("/tracer/volume", .float64, "A"),
            f("/tracer/injectionTime", .string, "A", .optional),
            f("/scanner/facility", .string), f("/scanner/manufacturer", .string), f("/scanner/name", .string),
            f("/scanner/operator", .string), f("/scanner/topology", .string), f("/scanner/boreSize", .float64, "", .optional),
            f("/acquisition/numAverages", .int64), f("/acquisition/numFrames", .int64),
            f("/acquisition/numPeriodsPerFrame", .int64), f("/acquisition/startTime", .string),
            f("/acquisition/gradient", .float64, "J,Y,3,3", .optional), f("/acquisition/offsetField", .float64, "J,Y,3", .optional),
            f("\(d)/baseFrequency", .float64), f("\(d)/cycle", .float64), f("\(d)/divider", .int64, "D,F"),
            f("\(d)/numChannels", .int64), f("\(d)/phase", .float64, "J,D,F"), f("\(d)/strength", .float64, "J,D,F"),
            f("\(d)/waveform", .string, "D,F"),
            f("\(r)/bandwidth", .float64), f("\(r)/numChannels", .int64), f("\(r)/numSamplingPoints", .int64),
            f("\(r)/unit", .string), f("\(r)/dataConversionFactor", .float64, "C,2", .optional),
            f("\(r)/inductionFactor", .float64, "C", .optional), f("\(r)/transferFunction", .complex128, "C,V/2+1", .optional),
            f("\(m)/data", .data),
            f("\(m)/isBackgroundCorrected", .int8), f("\(m)/isFastFrameAxis", .int8), f("\(m)/isFourierTransformed", .int8),
            f("\(m)/isFramePermutation", .int8), f("\(m)/isFrequencySelection", .int8), f("\(m)/isSparsityTransformed", .int8),
            f("\(m)/isSpectralLeakageCorrected", .int8), f("\(m)/isTransferFunctionCorrected", .int8),
            f("\(m)/isBackgroundFrame", .int8, "N"),
            f("\(m)/framePermutation", .int64, "N", .whenFlag("\(m)/isFramePermutation")),
            f("\(m)/frequencySelection", .int64, "K", .whenFlag("\(m)/isFrequencySelection")),
            f("\(m)/sparsityTransformation", .string, "", .whenFlag("\(m)/isSparsityTransformed")),
            f("\(m)/subsamplingIndices", .int64, "J,C,K,B", .whenFlag("\(m)/isSparsityTransformed")),
            f("/calibration/method", .string), f("/calibration/size", .int64, "3"),
            f("/calibration/fieldOfView", .float64, "3"), f("/calibration/fieldOfViewCenter", .float64, "3"),
            f("/calibration/order", .string), f("/calibration/positions", .float64, "O,3", .optional),
            f("/calibration/deltaSampleSize", .float64, "3", .optional), f("/calibration/snr", .float64, "J,C,K", .optional),
            f("/calibration/offsetFields", .float64, "O,3", .optional),
            f("/reconstruction/data", .data), f("/reconstruction/fieldOfView", .float64, "3"),
            f("/reconstruction/fieldOfViewCenter", .float64, "3"), f("/reconstruction/size", .int64, "3"),
            f("/reconstruction/order", .string), f("/reconstruction/positions", .float64, "P,3", .optional),
            f("/reconstruction/isOverscanRegion", .int8, "P", .optional),
        ]
    }()
}
