import MagpieCore

extension ScanMetadata {
    /// The structural faults of a scan-start's metadata: arrays whose shapes contradict each other
    /// or the frames (J periods, C channels, V samples), numbers that are not finite or out of
    /// range. A scan with any of them cannot be described as MDF and is refused. Faults that only
    /// make the file invalid MDF (a malformed uuid, an empty name) are not checked here: the
    /// daemon accepts the scan and repairs them when it writes the file.
    public func structuralFault(periods: Int, channels: Int, samples: Int) -> String? {
        let drive = acquisition.drivefield, receiver = acquisition.receiver
        let d = drive.divider.count, f = drive.divider.first?.count ?? 0
        let path = "metadata.acquisition.drivefield"
        guard (1...StreamLimits.maximumDriveChannels).contains(d), (1...StreamLimits.maximumDriveFrequencies).contains(f),
              drive.divider.allSatisfy({ $0.count == f }) else {
            return "\(path).divider must be D x F with D in 1...\(StreamLimits.maximumDriveChannels) and F in 1...\(StreamLimits.maximumDriveFrequencies), "
                + "got rows of \(drive.divider.map(\.count))"
        }
        guard drive.divider.joined().allSatisfy({ (1...StreamLimits.maximumDivider).contains($0) }) else {
            return "\(path).divider values must be in 1...\(StreamLimits.maximumDivider)"
        }
        guard let cycle = leastCommonMultiple(drive.divider.joined()), cycle <= StreamLimits.maximumDivider else {
            return "\(path).divider: the least common multiple of the dividers exceeds \(StreamLimits.maximumDivider)"
        }
        guard drive.baseFrequency.isFinite, drive.baseFrequency > 0 else { return "\(path).baseFrequency must be finite and positive" }
        for (name, array) in [("phase", drive.phase), ("strength", drive.strength)] {
            guard array.count == periods, array.allSatisfy({ $0.count == d && $0.allSatisfy { $0.count == f } }) else {
                return "\(path).\(name) must be J x D x F = \(periods) x \(d) x \(f) (periods_per_frame x divider's shape)"
            }
            guard array.joined().joined().allSatisfy(\.isFinite) else { return "\(path).\(name) holds a value that is not finite" }
        }
        guard drive.waveform.count == d, drive.waveform.allSatisfy({ $0.count == f }) else {
            return "\(path).waveform must be D x F = \(d) x \(f) (the divider's shape)"
        }
        if let gradient = acquisition.gradient {
            let y = gradient.first?.count ?? 0
            guard gradient.count == periods, (1...StreamLimits.maximumDriveFrequencies).contains(y),
                  gradient.allSatisfy({ $0.count == y && $0.allSatisfy { $0.count == 3 && $0.allSatisfy { $0.count == 3 } } }) else {
                return "metadata.acquisition.gradient must be J x Y x 3 x 3 with J = \(periods)"
            }
            guard gradient.joined().joined().joined().allSatisfy(\.isFinite) else { return "metadata.acquisition.gradient holds a value that is not finite" }
        }
        guard receiver.numChannels == channels else {
            return "metadata.acquisition.receiver.numChannels \(receiver.numChannels) differs from channels \(channels)"
        }
        guard receiver.numSamplingPoints == samples else {
            return "metadata.acquisition.receiver.numSamplingPoints \(receiver.numSamplingPoints) differs from samples_per_period \(samples)"
        }
        guard receiver.dataConversionFactor.count == channels, receiver.dataConversionFactor.allSatisfy({ $0.count == 2 }) else {
            return "metadata.acquisition.receiver.dataConversionFactor must be \(channels) x 2"
        }
        guard receiver.dataConversionFactor.joined().allSatisfy(\.isFinite) else {
            return "metadata.acquisition.receiver.dataConversionFactor holds a value that is not finite"
        }
        guard receiver.bandwidth.isFinite, receiver.bandwidth > 0 else { return "metadata.acquisition.receiver.bandwidth must be finite and positive" }
        if let tracer {
            let counts = [tracer.batch.count, tracer.name.count, tracer.solute.count, tracer.vendor.count, tracer.concentration.count, tracer.volume.count]
            guard counts.allSatisfy({ $0 <= StreamLimits.maximumTracers }) else { return "metadata.tracer: more than \(StreamLimits.maximumTracers) tracers" }
            guard (tracer.concentration + tracer.volume).allSatisfy(\.isFinite) else { return "metadata.tracer holds a value that is not finite" }
        }
        return nil
    }
}
