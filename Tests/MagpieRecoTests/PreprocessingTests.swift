import MagpieCore
import MagpieReco
import Testing

@Suite struct BackgroundInterpolationTests {
    @Test func oneBlockIsItsMean() {
        let interpolation = BackgroundInterpolation(isBackgroundFrame: [false, false, true, true])
        #expect(interpolation.blocks == [2..<4])
        #expect(interpolation.weights(frame: 0).map(\.weight) == [1])
    }

    @Test func framesBetweenBlocksInterpolateLinearly() {
        // Blocks centred at 0.5 and 5.5; frame 3 is halfway.
        let interpolation = BackgroundInterpolation(isBackgroundFrame: [true, true, false, false, false, true, true])
        #expect(interpolation.blocks == [0..<2, 5..<7])
        let weights = interpolation.weights(frame: 3)
        #expect(weights.map(\.block) == [0, 1])
        #expect(abs(weights[0].weight - 0.5) < 1e-12 && abs(weights[1].weight - 0.5) < 1e-12)
        #expect(BackgroundInterpolation(isBackgroundFrame: [false, true]).weights(frame: 0).map(\.block) == [0])
        #expect(BackgroundInterpolation(isBackgroundFrame: [false, false]).isEmpty)
    }
}

@Suite struct MeasurementPreparationTests {
    /// 2 channels x 4 samples; frame n of channel c holds n + 10 c + v, background frames 100.
    func frames(_ flags: [Bool]) throws -> MeasuredFrames {
        var raw = NDArray<Float>(repeating: 0, shape: [flags.count, 2, 4])
        for n in flags.indices {
            for c in 0..<2 { for v in 0..<4 { raw[n, c, v] = flags[n] ? 100 : Float(n + 10 * c + v) } }
        }
        return try MeasuredFrames(raw: raw.map { ($0 - 1) / 2 }, isBackgroundFrame: flags,
                                  conversion: NDArray(shape: [2, 2], storage: [2, 1, 2, 1]))
    }

    @Test func conversionBackgroundAndAveraging() throws {
        let measured = try frames([false, false, false, false, true])
        let prepared = try measured.prepared(frames: [1, 2, 3], average: 1)
        #expect(prepared.shape == [3, 2, 4])
        #expect(prepared[0, 1, 2] == 1 + 10 + 2 - 100)
        let averaged = try measured.prepared(average: 2)   // frames 0+1, 2+3
        #expect(averaged.shape == [2, 2, 4])
        #expect(averaged[1, 0, 0] == 2.5 - 100)
    }

    @Test func badSelectionsAreNamed() throws {
        let measured = try frames([false, true])
        #expect(throws: ReconstructionError.measurement("frame 1 is a background frame")) { try measured.prepared(frames: [1]) }
        #expect(throws: ReconstructionError.measurement("frame 5 does not exist; frames are numbered 0 to 1")) { try measured.prepared(frames: [5]) }
        #expect(throws: ReconstructionError.measurement("no foreground frames: all 2 frames are background frames")) {
            try self.frames([true, true]).prepared()
        }
        #expect(throws: ReconstructionError.measurement("cannot average 2 frames out of 1 selected")) { try measured.prepared(average: 2) }
        #expect(throws: ReconstructionError.self) {
            try MeasuredFrames(raw: NDArray(repeating: 0, shape: [1, 2, 4]), isBackgroundFrame: [false], conversion: NDArray(repeating: 1, shape: [3, 2]))
        }
    }
}

@Suite struct FrequencySelectionTests {
    /// 2 channels x 5 bins x (2 positions + 2 background frames), V = 8 at 8 Hz (1 Hz per bin):
    /// channel 0 carries signal in bins 1 and 3, channel 1 in bin 2.
    func recorded(snr: NDArray<Double>? = nil) throws -> RecordedSystemMatrix {
        var spectra = NDArray<Complex<Float>>(repeating: .zero, shape: [2, 5, 4])
        for n in 0..<4 {
            let noise = Float(n % 2 == 0 ? 0.01 : -0.01)
            for c in 0..<2 { for k in 0..<5 { spectra[c, k, n] = Complex(noise, 0) } }
            if n < 2 {
                spectra[0, 1, n] = Complex(1, 0)
                spectra[0, 3, n] = Complex(0, 2)
                spectra[1, 2, n] = Complex(3, 0)
            }
        }
        return try RecordedSystemMatrix(spectra: spectra, samplesPerPeriod: 8, samplingRate: 8,
                                        isBackgroundFrame: [false, false, true, true], snr: snr, grid: [2, 1, 1])
    }

    @Test func snrThresholdBandAndChannels() throws {
        let sm = try recorded()
        let all = try FrequencySelection(minFrequency: 0, snrThreshold: 5).rows(of: sm).map(\.row)
        #expect(all == [FrequencyRow(channel: 0, bin: 1), FrequencyRow(channel: 0, bin: 3), FrequencyRow(channel: 1, bin: 2)])
        let band = try FrequencySelection(minFrequency: 2, maxFrequency: 3, snrThreshold: 5).rows(of: sm).map(\.row)
        #expect(band == [FrequencyRow(channel: 0, bin: 3), FrequencyRow(channel: 1, bin: 2)])
        let channel = try FrequencySelection(minFrequency: 0, channels: [1], snrThreshold: 5).rows(of: sm).map(\.row)
        #expect(channel == [FrequencyRow(channel: 1, bin: 2)])
        #expect(try FrequencySelection(minFrequency: 0, snrThreshold: 0).rows(of: sm).count == 10)
    }

    @Test func storedSNRWinsOverTheEstimate() throws {
        let snr = NDArray<Double>(shape: [2, 5], storage: [0, 0, 9, 0, 0, 0, 0, 0, 0, 9])
        let rows = try FrequencySelection(minFrequency: 0, snrThreshold: 5).rows(of: recorded(snr: snr)).map(\.row)
        #expect(rows == [FrequencyRow(channel: 0, bin: 2), FrequencyRow(channel: 1, bin: 4)])
    }

    @Test func backgroundCorrectionRemovesTheEmptyScanner() throws {
        var sm = try recorded()
        sm.spectra[0, 1, 2] = Complex(0.25, 0)
        sm.spectra[0, 1, 3] = Complex(0.25, 0)
        let matrix = try SystemMatrix(sm, selection: FrequencySelection(minFrequency: 0, snrThreshold: 5))
        #expect(matrix.isBackgroundCorrected)
        // Row (channel 0, bin 1) at position 0: 1 minus the background frames' mean, 0.25.
        #expect(matrix.apply([1, 0])[0] == Complex(0.75, 0))
        sm.isBackgroundCorrected = true
        #expect(try SystemMatrix(sm, selection: FrequencySelection(minFrequency: 0, snrThreshold: 5)).apply([1, 0])[0] == Complex(1, 0))
    }

    @Test func impossibleSelectionsAreNamed() throws {
        let sm = try recorded()
        #expect(throws: ReconstructionError.selection("receive channel 3 does not exist; the system matrix has 2")) {
            try FrequencySelection(channels: [2]).rows(of: sm)
        }
        #expect(throws: ReconstructionError.self) { try FrequencySelection(minFrequency: 100).rows(of: sm) }
        #expect(throws: ReconstructionError.self) {
            try RecordedSystemMatrix(spectra: sm.spectra, samplesPerPeriod: 8, samplingRate: 8, isBackgroundFrame: [false, false, false, true], grid: [2, 1, 1])
        }
    }
}
