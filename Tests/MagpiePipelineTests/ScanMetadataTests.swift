import Foundation
import MagpieCore
import MagpieMDF
import MagpiePipeline
import MagpieWire
import Testing

@Suite struct ScanMetadataTests {
    @Test(arguments: [ScannerPreset.openmpi1d, .openmpi2d, .openmpi3d])
    func mdfGroupsSurviveTheStream(preset: ScannerPreset) throws {
        var mdf = MDFFile.simulated(scanner: preset.scanner, frames: 12, experiment: "e", description: "d", tracerConcentration: 0.1)
        mdf.acquisition.receiver.dataConversionFactor = NDArray(repeating: 0.5, shape: [preset.scanner.receive.count, 2])
        let start = ScanStart(scanID: "s", timeNs: 0, sampleType: .float32, channels: preset.scanner.receive.count,
                              samplesPerPeriod: preset.scanner.samplesPerPeriod, framesPlanned: 12, metadata: ScanMetadata(mdf: mdf))
        guard case let .scanStart(received) = try StreamCodec.decode(StreamCodec.encode(.scanStart(start))) else {
            Issue.record("not a scan-start"); return
        }
        let rebuilt = MDFFile(scanStart: received, frames: 12)
        #expect(rebuilt.study == mdf.study)
        #expect(rebuilt.experiment == mdf.experiment)
        #expect(rebuilt.tracer == mdf.tracer)
        #expect(rebuilt.scanner == mdf.scanner)
        var acquisition = rebuilt.acquisition
        acquisition.startTime = mdf.acquisition.startTime
        #expect(acquisition == mdf.acquisition)
    }
}
