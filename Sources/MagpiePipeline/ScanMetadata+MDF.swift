import MagpieCore
import MagpieMDF
import MagpieWire

extension ScanMetadata {
    /// The stream's metadata for a scan recorded with `mdf`'s groups (its measurement, if any, is ignored).
    public init(mdf: MDFFile) {
        let a = mdf.acquisition, drive = a.driveField, receiver = a.receiver
        let d = drive.divider.shape.count == 2 ? drive.divider.shape[0] : 0, f = drive.divider.shape.count == 2 ? drive.divider.shape[1] : 0
        func nested<T>(_ array: NDArray<T>) -> [[[T]]] {
            let (j, dd, ff) = (array.shape[0], array.shape[1], array.shape[2])
            return (0..<j).map { p in (0..<dd).map { c in (0..<ff).map { array[p, c, $0] } } }
        }
        let conversion = receiver.dataConversionFactor.map { factor in (0..<factor.shape[0]).map { [factor[$0, 0], factor[$0, 1]] } }
            ?? Array(repeating: [1, 0], count: receiver.numChannels)
        self.init(
            study: .init(name: mdf.study.name, number: mdf.study.number, uuid: mdf.study.uuid, description: mdf.study.description),
            experiment: .init(name: mdf.experiment.name, number: mdf.experiment.number, uuid: mdf.experiment.uuid,
                              description: mdf.experiment.description, subject: mdf.experiment.subject, isSimulation: mdf.experiment.isSimulation),
            tracer: mdf.tracer.map { .init(batch: $0.batch, name: $0.name, solute: $0.solute, vendor: $0.vendor,
                                           concentration: $0.concentration, volume: $0.volume) },
            scanner: .init(facility: mdf.scanner.facility, manufacturer: mdf.scanner.manufacturer, name: mdf.scanner.name,
                           operator: mdf.scanner.operator, topology: mdf.scanner.topology),
            acquisition: .init(
                numAverages: a.numAverages,
                gradient: a.gradient.map { g in (0..<g.shape[0]).map { p in (0..<g.shape[1]).map { y in (0..<3).map { r in (0..<3).map { g[p, y, r, $0] } } } } },
                drivefield: .init(baseFrequency: drive.baseFrequency,
                                  divider: (0..<d).map { c in (0..<f).map { drive.divider[c, $0] } },
                                  phase: nested(drive.phase), strength: nested(drive.strength),
                                  waveform: (0..<d).map { c in (0..<f).map { drive.waveform[c, $0] } }),
                receiver: .init(bandwidth: receiver.bandwidth, numChannels: receiver.numChannels,
                                numSamplingPoints: receiver.numSamplingPoints, unit: receiver.unit, dataConversionFactor: conversion)))
    }
}

extension MDFFile {
    /// The metadata groups of a scan's file from its scan-start; `frames` is N.
    public init(scanStart start: ScanStart, frames: Int) {
        let m = start.metadata, drive = m.acquisition.drivefield, receiver = m.acquisition.receiver
        let d = drive.divider.count, f = drive.divider.first?.count ?? 0
        func flat<T>(_ nested: [[[T]]]) -> NDArray<T> {
            NDArray(shape: [nested.count, nested.first?.count ?? 0, nested.first?.first?.count ?? 0], storage: nested.flatMap { $0.flatMap { $0 } })
        }
        let dividers = NDArray(shape: [d, f], storage: drive.divider.flatMap { $0 })
        // Validated scan-starts have an lcm within StreamLimits; 0 (an invalid cycle) rather than a trap otherwise.
        let cycle = MDF.DriveField.cycle(baseFrequency: drive.baseFrequency, divider: dividers, strength: flat(drive.strength)) ?? 0
        self.init(
            study: MDF.Study(name: m.study.name, number: m.study.number, uuid: m.study.uuid, description: m.study.description),
            experiment: MDF.Experiment(name: m.experiment.name, number: m.experiment.number, uuid: m.experiment.uuid,
                                       description: m.experiment.description, subject: m.experiment.subject, isSimulation: m.experiment.isSimulation),
            tracer: m.tracer.map { MDF.Tracer(batch: $0.batch, name: $0.name, solute: $0.solute, vendor: $0.vendor,
                                              concentration: $0.concentration, volume: $0.volume) },
            scanner: MDF.Scanner(facility: m.scanner.facility, manufacturer: m.scanner.manufacturer, name: m.scanner.name,
                                 operator: m.scanner.operator, topology: m.scanner.topology),
            acquisition: MDF.Acquisition(
                numAverages: m.acquisition.numAverages, numFrames: frames, numPeriodsPerFrame: start.periodsPerFrame,
                gradient: m.acquisition.gradient.map { g in
                    NDArray(shape: [g.count, g.first?.count ?? 0, 3, 3], storage: g.flatMap { $0.flatMap { $0.flatMap { $0 } } })
                },
                driveField: MDF.DriveField(baseFrequency: drive.baseFrequency, cycle: cycle, divider: dividers, numChannels: d,
                                           phase: flat(drive.phase), strength: flat(drive.strength),
                                           waveform: NDArray(shape: [d, f], storage: drive.waveform.flatMap { $0 })),
                receiver: MDF.Receiver(bandwidth: receiver.bandwidth, numChannels: receiver.numChannels,
                                       numSamplingPoints: receiver.numSamplingPoints, unit: receiver.unit,
                                       dataConversionFactor: NDArray(shape: [receiver.numChannels, 2], storage: receiver.dataConversionFactor.flatMap { $0 }))))
    }
}
