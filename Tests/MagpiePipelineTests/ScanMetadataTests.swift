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

    /// A 2D scan on a 3-channel scanner streams its third drive channel as off (strength 0,
    /// divider 99): accepted, and the file's cycle is the active channels' 652.8 us.
    @Test func aDriveChannelThatIsOffStreams() throws {
        let mdf = MDFFile.simulated(scanner: ScannerPreset.openmpi2d.scanner, frames: 4, experiment: "e", description: "d", tracerConcentration: 0.1)
        var metadata = ScanMetadata(mdf: mdf)
        metadata.acquisition.drivefield.divider.append([99])
        metadata.acquisition.drivefield.phase[0].append([0])
        metadata.acquisition.drivefield.strength[0].append([0])
        metadata.acquisition.drivefield.waveform.append(["sine"])
        let start = ScanStart(scanID: "s", timeNs: 0, sampleType: .float32, channels: 2, samplesPerPeriod: 1632, framesPlanned: 4, metadata: metadata)
        guard case let .scanStart(received) = try StreamCodec.decode(StreamCodec.encode(.scanStart(start))) else {
            Issue.record("not a scan-start"); return
        }
        let rebuilt = MDFFile(scanStart: received, frames: 4)
        #expect(rebuilt.acquisition.driveField.numChannels == 3 && rebuilt.acquisition.driveField.activeChannels == [0, 1])
        #expect(abs(rebuilt.acquisition.driveField.cycle - 652.8e-6) < 1e-12)
    }
}
