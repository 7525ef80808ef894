import Foundation
import MagpieCore
import MagpiePlan
import MagpieReco
import MagpieWire

extension PlanItem {
    /// A frame of the stream (as received, or read back from its journal) as the plan takes it:
    /// its first period in physical units, by the scan-start's conversion (validated C x 2).
    init(frame: Int, shape: [Int], sampleType: SampleType, payload: Data, conversion: NDArray<Double>, ordinal: Int?, sentNs: UInt64) {
        let (channels, samples) = (shape[1], shape[2])
        var period = NDArray(shape: [1, channels, samples],
                             storage: StreamCodec.values(of: payload.prefix(channels * samples * sampleType.size), type: sampleType))
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
