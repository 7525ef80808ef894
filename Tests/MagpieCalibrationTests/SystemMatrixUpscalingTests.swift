import Foundation
import MagpieCore
import MagpieMDF
import MagpieCalibration
import Testing

@Suite struct SystemMatrixUpscalingTests {
    /// A 2D SM of `columns` x `rows` (+ `background` frames), every frequency image the linear
    /// function a + b x + c y with a background offset added to every frame.
    static func linearSM(columns: Int, rows: Int, background: Int = 3, channels: Int = 2, frequencies: Int = 5) -> MDFFile {
        var scanner = ScannerPreset.smsrPaper.scanner
        scanner.samplesPerPeriod = 2 * (frequencies - 1)
        let frames = columns * rows + background
        var data = NDArray<Complex<Float>>(repeating: .zero, shape: [1, channels, frequencies, frames])
        for c in 0..<channels {
            for k in 0..<frequencies {
                let base = (c * frequencies + k) * frames
                let offset = Complex<Float>(0.5, -0.25 * Float(k))
                for n in 0..<frames {
                    let (x, y) = (Float(n % columns), Float(n / columns))
                    let signal = n < columns * rows ? Complex(Float(k + 1) + 0.5 * x - Float(c) * y, 0.1 * x * Float(k)) : .zero
                    data.storage[base + n] = signal + offset
                }
            }
        }
        var mdf = MDFFile.simulated(scanner: scanner, frames: frames, experiment: "sm", description: "test", tracerConcentration: 0.1)
        mdf.measurement = MDF.Measurement(data: .complex64(data), isBackgroundFrame: (0..<frames).map { $0 >= columns * rows },
                                          isFastFrameAxis: true, isFourierTransformed: true)
        let size = [columns, rows, 1], fov = [0.032, 0.024, 0.001]
        mdf.calibration = MDF.Calibration(method: "simulation", size: size, fieldOfView: fov, fieldOfViewCenter: [0, 0, 0],
                                          positions: gridPositions(size, fov), deltaSampleSize: [0.004, 0.004, 0.001])
        return mdf
    }

    @Test func bicubicKeepsLinearImagesBackgroundAndGeometry() throws {
        let (columns, rows, factor) = (8, 6, 4)
        let coarse = Self.linearSM(columns: columns, rows: rows)
        let result = try SystemMatrixUpscaling(factor: factor).upscale(coarse, path: "sm.mdf")
        let calibration = try #require(result.mdf.calibration)
        #expect(calibration.size == [32, 24, 1])
        #expect(calibration.fieldOfView == [0.032, 0.024, 0.001])
        // Coarse pitch 4 mm: the centre moves by 3/8 of it on x and y.
        #expect(abs(calibration.fieldOfViewCenter[0] - 0.0015) < 1e-12 && abs(calibration.fieldOfViewCenter[1] - 0.0015) < 1e-12)
        #expect(calibration.fieldOfViewCenter[2] == 0)
        let positions = try #require(calibration.positions)
        // Fine point 4 j is coarse point j, where it was measured.
        let coarsePositions = try #require(coarse.calibration?.positions)
        #expect(abs(positions[0, 0] - coarsePositions[0, 0]) < 1e-12 && abs(positions[4, 0] - coarsePositions[1, 0]) < 1e-12)
        #expect(abs(positions[4 * 32, 1] - coarsePositions[8, 1]) < 1e-12)
        #expect(result.learned.storage.allSatisfy { $0 == 0 })

        let measurement = try #require(result.mdf.measurement)
        guard case let .complex64(data) = measurement.data else { Issue.record("not complex64"); return }
        let fineFrames = 32 * 24 + 3
        #expect(data.shape == [1, 2, 5, fineFrames])
        #expect(measurement.isBackgroundFrame.filter { $0 }.count == 3 && measurement.isBackgroundFrame.last == true)
        for c in 0..<2 {
            for k in 0..<5 {
                let base = (c * 5 + k) * fineFrames
                let offset = Complex<Float>(0.5, -0.25 * Float(k))
                // Inside (four coarse neighbours on each axis) the linear image is exact, offset included.
                for (i, j) in [(4, 4), (9, 13), (12, 18)] {
                    let (x, y) = (Float(j) / 4, Float(i) / 4)
                    let expected = Complex(Float(k + 1) + 0.5 * x - Float(c) * y, 0.1 * x * Float(k)) + offset
                    #expect((data.storage[base + i * 32 + j] - expected).length < 1e-4)
                }
                // Background frames are carried over unchanged.
                #expect((data.storage[base + fineFrames - 1] - offset).length < 1e-6)
            }
        }
    }

    @Test func refusesWhatItCannotUpscale() throws {
        let upscaling = try SystemMatrixUpscaling(factor: 2)
        var measurement = Self.linearSM(columns: 4, rows: 4)
        measurement.calibration = nil
        #expect(throws: SystemMatrixUpscaling.Failure.self) { try upscaling.upscale(measurement, path: "m.mdf") }
        let line = Self.linearSM(columns: 8, rows: 1)
        let error = try #require(throws: SystemMatrixUpscaling.Failure.self) { try upscaling.upscale(line, path: "line.mdf") }
        #expect(error.description.contains("2D grids"))
        var meander = Self.linearSM(columns: 4, rows: 4)
        meander.calibration?.isMeanderingGrid = true
        #expect(throws: SystemMatrixUpscaling.Failure.self) { try upscaling.upscale(meander, path: "meander.mdf") }
        #expect(throws: SystemMatrixUpscaling.Failure.self) { try SystemMatrixUpscaling(factor: 3) }
    }
}
