import Foundation
import MagpieCore
import MagpiePlan
import MagpieReco
import MagpieWire

extension PlanItem {
    /// A frame of the stream (as received, or read back from its journal) as the plan takes it:
    /// the mean of its periods (J repetitions of one sequence; `PlanRunner.begin` refuses a
    /// multi-patch scan) in physical units, by the scan-start's conversion (validated C x 2).
    init(frame: Int, shape: [Int], sampleType: SampleType, payload: Data, conversion: NDArray<Double>, ordinal: Int?, sentNs: UInt64) {
        let (periods, channels, samples) = (shape[0], shape[1], shape[2])
        var values = StreamCodec.values(of: payload.prefix(periods * channels * samples * sampleType.size), type: sampleType)
        if periods > 1 { values = ReconstructionInputs.averagePeriods(values, frames: 1, periods: periods, size: channels * samples) }
        var period = NDArray(shape: [1, channels, samples], storage: values)
        try? MeasuredFrames.convert(&period, conversion: conversion)
        self.init(frame: frame, foregroundOrdinal: ordinal, sentNs: sentNs, signals: period.reshaped([channels, samples]))
    }
}

extension ScanStart {
    /// The dataConversionFactor per channel (C x 2), as frames are converted before processing.
    var conversion: NDArray<Double> {
        NDArray(shape: [channels, 2], storage: metadata.acquisition.receiver.dataConversionFactor.flatMap { $0 })
    }
}
