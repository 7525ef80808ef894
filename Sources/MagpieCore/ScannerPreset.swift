/// Named scanners from the literature. Where a paper leaves a value open, the choice is marked.
public enum ScannerPreset: String, CaseIterable, Sendable {
    case openmpi1d = "openmpi-1d"
    case openmpi2d = "openmpi-2d"
    case openmpi3d = "openmpi-3d"
    case denoisePaper = "denoise-paper"
    case deblurPaper3T = "deblur-paper-3T"
    case deblurPaper6T = "deblur-paper-6T"
    case dcganPaper3T = "dcgan-paper-3T"
    case dcganPaper6T = "dcgan-paper-6T"
    case smsrPaper = "smsr-paper"
    /// openmpi-2d as the 3-channel scanner stores it: the third drive channel off (strength 0,
    /// divider 99) and three receive coils, as OpenMPIData's 2D measurements are.
    case openmpi2d3ch = "openmpi-2d-3ch"

    public var scanner: MPIScanner {
        switch self {
        case .openmpi1d, .openmpi2d, .openmpi3d:
            // OpenMPIData (Knopp et al., Data in Brief 28, 2020): Bruker preclinical scanner, 2.5 MS/s,
            // base 2.5 MHz, dividers 102 / 96 / 99, 12 mT, gradient (-1, -1, 2) T/m.
            // Chosen here: Perimag-like 25 nm cores at 300 K, 64-pixel grids, 1 mT/A-class coils.
            let axes = self == .openmpi1d ? 1 : self == .openmpi2d ? 2 : 3
            let dividers = [102, 96, 99]
            let drive = (0..<axes).map { DriveChannel(axis: $0, amplitude: 0.012, divider: dividers[$0], phase: Double.pi / 2) }
            let samples = leastCommonMultiple(dividers.prefix(axes))!  // 102, 1632, 53856
            let size = [[64, 1, 1], [64, 64, 1], [24, 24, 12]][axes - 1]
            return MPIScanner(name: rawValue, gradient: [-1, -1, 2], baseFrequency: 2.5e6, drive: drive, samplingRate: 2.5e6,
                           samplesPerPeriod: samples, receive: (0..<axes).map { ReceiveChannel(axis: $0) },
                           particle: Particle(coreDiameter: 25e-9, temperature: 300), imageSize: size)
        case .openmpi2d3ch:
            var scanner = ScannerPreset.openmpi2d.scanner
            scanner.name = rawValue
            scanner.drive.append(DriveChannel(axis: 2, amplitude: 0, divider: 99, phase: Double.pi / 2))
            scanner.receive.append(ReceiveChannel(axis: 2))
            return scanner
        case .denoisePaper:
            // Self-supervised denoising paper, Table I: 0.4 T/m, 2.5 kHz and 500 Hz, d 20 nm, T 300 K,
            // 101 x 101 images, 9900-sample signals. Chosen: 4.95 MS/s (so one 500 Hz cycle is 9900
            // samples) and 8 mT drive amplitude (a 40 mm FOV).
            return MPIScanner(name: rawValue, gradient: [0.4, 0.4, 0.8], baseFrequency: 4.95e6,
                           drive: [DriveChannel(axis: 0, amplitude: 0.008, divider: 1980, phase: Double.pi / 2),
                                   DriveChannel(axis: 1, amplitude: 0.008, divider: 9900, phase: Double.pi / 2)],
                           samplingRate: 4.95e6, samplesPerPeriod: 9900, receive: [ReceiveChannel(axis: 0), ReceiveChannel(axis: 1)],
                           particle: Particle(coreDiameter: 20e-9, temperature: 300), imageSize: [101, 101, 1])
        case .deblurPaper3T, .deblurPaper6T:
            // MSA-transformer paper, Table 1: 3 and 6 T/m, FOV 30 x 30 mm, d 20 nm, 293.15 K, 120 x 120.
            // Chosen: a dense 25 kHz / 24.75 kHz Lissajous (dividers 100 / 101 of 2.5 MHz).
            let g = self == .deblurPaper3T ? 3.0 : 6.0
            let amplitude = 0.030 * g / 2
            return MPIScanner(name: rawValue, gradient: [g, g, 2 * g], baseFrequency: 2.5e6,
                           drive: [DriveChannel(axis: 0, amplitude: amplitude, divider: 100, phase: Double.pi / 2),
                                   DriveChannel(axis: 1, amplitude: amplitude, divider: 101, phase: Double.pi / 2)],
                           samplingRate: 2.5e6, samplesPerPeriod: 10100, receive: [ReceiveChannel(axis: 0), ReceiveChannel(axis: 1)],
                           particle: Particle(coreDiameter: 20e-9, temperature: 293.15), imageSize: [120, 120, 1])
        case .dcganPaper3T, .dcganPaper6T:
            // DC-GAN paper: FOV 20 x 20 mm, 101 x 101 images. Chosen (the paper names no scanner): the
            // MSA-transformer presets' particles and Lissajous, 3 T/m for the native ("low gradient")
            // images and 6 T/m for the deconvolved domain.
            var scanner = (self == .dcganPaper3T ? ScannerPreset.deblurPaper3T : .deblurPaper6T).scanner
            scanner.name = rawValue
            scanner.imageSize = [101, 101, 1]
            for d in scanner.drive.indices { scanner.drive[d].amplitude = 0.020 * scanner.gradient[0] / 2 }
            return scanner
        case .smsrPaper:
            // FSC-loss SM super-resolution paper: FFP Lissajous at 25 kHz and 24.75 kHz, FOV 32 x 32 mm,
            // grid 32 x 32, gradient 2-4 T/m, particles 20-35 nm; amplitude A = FOV G / 2.
            // Chosen: 3 T/m and 25 nm as the preset's centre; 2.475 MS/s makes both dividers integers.
            let g = 3.0
            return MPIScanner(name: rawValue, gradient: [g, g, 2 * g], baseFrequency: 2.475e6,
                           drive: [DriveChannel(axis: 0, amplitude: 0.032 * g / 2, divider: 99, phase: Double.pi / 2),
                                   DriveChannel(axis: 1, amplitude: 0.032 * g / 2, divider: 100, phase: Double.pi / 2)],
                           samplingRate: 2.475e6, samplesPerPeriod: 9900, receive: [ReceiveChannel(axis: 0), ReceiveChannel(axis: 1)],
                           particle: Particle(coreDiameter: 25e-9, temperature: 300), imageSize: [32, 32, 1])
        }
    }
}
