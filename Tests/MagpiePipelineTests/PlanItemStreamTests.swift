import Foundation
@testable import MagpiePipeline
import MagpieCore
import MagpieMDF
import MagpiePlan
import MagpieWire
import Testing

/// A stream frame of several periods reaches the plan as their mean, converted to volts; a scan
/// whose periods differ (a multi-patch sequence) is refused when it begins, naming the field.
@Suite struct PlanItemStreamTests {
    @Test func theMeanOfAFramesPeriodsInPhysicalUnits() {
        // 3 periods x 2 channels x 2 samples, Int16 counts.
        let values: [Float] = [1, 2, 3, 4, /**/ 3, 4, 5, 6, /**/ 5, 6, 7, 8]
        let payload = StreamCodec.payload(values, type: .int16)
        let conversion = NDArray(shape: [2, 2], storage: [0.5, 1, 2, -1])
        let item = PlanItem(frame: 7, shape: [3, 2, 2], sampleType: .int16, payload: payload, conversion: conversion, ordinal: 2, sentNs: 0)
        #expect(item.signals.shape == [2, 2])
        let expected: [Float] = [2.5, 3, 9, 11]   // means 3, 4, 5, 6; channel 1: 0.5 x + 1, channel 2: 2 x - 1
        #expect(item.signals.storage == expected)
        #expect(item.frame == 7 && item.foregroundOrdinal == 2)
    }

    @Test func aScanWhosePeriodsDifferIsRefusedAtItsStart() throws {
        var file = MDFFile.simulated(scanner: ScannerPreset.openmpi2d.scanner, frames: 1, experiment: "patches", description: "", tracerConcentration: 0.1)
        file.acquisition.numPeriodsPerFrame = 2
        let drive = file.acquisition.driveField
        file.acquisition.driveField.phase = NDArray(shape: [2, 2, 1], storage: drive.phase.storage + drive.phase.storage)
        file.acquisition.driveField.strength = NDArray(shape: [2, 2, 1], storage: drive.strength.storage + drive.strength.storage)
        let runner = try PlanRunner(try ReconstructionPlan(steps: [BackgroundStep(mode: .preceding), XSpaceStep()]), context: PlanContext())
        try runner.begin(ScanDescription(metadata: file, name: "scan repeated"))
        file.acquisition.offsetField = NDArray(shape: [2, 1, 3], storage: [0, 0, 0, 0.001, 0, 0])
        #expect(throws: (any Error).self) { try runner.begin(ScanDescription(metadata: file, name: "scan patches")) }
        do {
            try runner.begin(ScanDescription(metadata: file, name: "scan patches"))
        } catch {
            #expect("\(error)".contains("/acquisition/offsetField differs between the 2 periods"), "\(error)")
        }
    }
}
