import Foundation

/// What the receiver decided about one message.
public enum ReceiverEvent: Sendable {
    /// A new scan: open its archive.
    case scanStarted(ScanStart, parts: [Data])
    /// An accepted frame of the open scan: archive it.
    case frame(FrameHeader, payload: Data, parts: [Data])
    /// The open scan is over: `complete` when its scan-end arrived; `missing` are its frame indices never received.
    case scanClosed(ScanClosure)
    /// The message was refused. `isFrame`: it claimed to be a frame. `reason` is one log line, or
    /// nil when an earlier line already said it (a refused scan's frames, a known unknown htype).
    case rejected(String?, isFrame: Bool)
    /// The sequence jumped: `count` frame messages never arrived (logged; the scan's loss is counted at its close).
    case gap(after: UInt64, count: UInt64)
    /// The sequence jumped by more than `StreamLimits.maximumSequenceJump`: counting starts afresh from `to`.
    case resynchronized(from: UInt64, to: UInt64)
    /// Frames held for a scan whose scan-start never came were dropped to stay within bounds.
    case dropped(count: Int)
}

public struct ScanClosure: Sendable, Equatable {
    public var scanID: String
    public var complete: Bool
    public var status: String
    /// Frame indices (0-based) the scan should have had but the receiver never accepted, as ranges.
    public var missing: [ClosedRange<Int>]

    public init(scanID: String, complete: Bool, status: String, missing: [ClosedRange<Int>]) {
        (self.scanID, self.complete, self.status, self.missing) = (scanID, complete, status, missing)
    }
}

/// The receiving side of magpie-stream v1 (protocols/magpie-stream-v1.md, "What a receiver does
/// on each fault"): decodes and validates each message, follows the open scan, checks sequence
/// numbers, holds frames that come before their scan-start, and closes scans, also those whose
/// sender fell silent. It does no I/O; the daemon acts on the events. Not thread-safe: one intake
/// thread owns it. Everything it remembers is bounded.
public final class StreamReceiver {
    public static let maximumHeldFrames = 1024
    public static let maximumHeldBytes = 256 << 20
    /// Scans remembered as ended or refused, and distinct unknown htypes counted.
    static let memory = 64

    private var open: (start: ScanStart, frames: Set<Int>, lastMessage: UInt64)?
    private var lastSequence: UInt64?
    private var sequenceMayRestart = false
    private var held: [(header: FrameHeader, payload: Data, parts: [Data])] = []
    private var heldBytes = 0
    private var ended: [String] = []
    /// Scans whose scan-start was refused, with its reason: their frames are rejected, not held.
    private var refused: [(scanID: String, reason: String)] = []
    private var unknownTypes: [String: Int] = [:]

    public init() {}

    /// `now`: a monotonic clock in nanoseconds, for `closeIfSilent`.
    public func handle(_ parts: [Data], now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> [ReceiverEvent] {
        let message: StreamMessage
        do {
            message = try StreamCodec.decode(parts)
        } catch let error as StreamError {
            return [rejection(error)]
        } catch {
            return [.rejected("\(error)", isFrame: false)]
        }
        if open?.start.scanID == message.scanID { open?.lastMessage = now }
        switch message {
        case let .scanStart(start): return scanStart(start, parts: parts, now: now)
        case let .frame(header, payload): return frame(header, payload: payload, parts: parts)
        case let .scanEnd(end): return scanEnd(end)
        }
    }

    /// Closes the open scan as incomplete (the daemon is stopping).
    public func closeOpenScan(reason: String) -> [ReceiverEvent] {
        guard let open else { return [] }
        return [close(open.start, complete: false, status: reason, framesSent: nil)]
    }

    /// Closes the open scan as incomplete when no message for it came for `timeout` seconds (its scan-end was lost).
    public func closeIfSilent(now: UInt64 = DispatchTime.now().uptimeNanoseconds, timeout: Double) -> [ReceiverEvent] {
        guard let open, now > open.lastMessage, Double(now - open.lastMessage) / 1e9 >= timeout else { return [] }
        return closeOpenScan(reason: String(format: "incomplete: no message for %g s (scan-end lost?)", timeout))
    }

    /// A refusal as an event; repeated refusals that say nothing new are counted without a log line.
    private func rejection(_ error: StreamError) -> ReceiverEvent {
        let isFrame = error.htype == FrameHeader.htype
        if error.kind == .unknownType, let type = error.htype {
            let key = unknownTypes[type] != nil || unknownTypes.count < Self.memory ? type : "(others)"
            let count = unknownTypes[key, default: 0] + 1
            unknownTypes[key] = count
            // Logged at the 1st, 10th, 100th, ... message of each htype.
            let logged = count == Int(pow(10, Double(Int(log10(Double(count))))))
            return .rejected(logged ? "\(error) (\(count) message\(count == 1 ? "" : "s") of this htype so far; logged at 1, 10, 100, ...)" : nil,
                             isFrame: isFrame)
        }
        if error.htype == ScanStart.htype, let id = error.scanID {
            if refused.contains(where: { $0.scanID == id }) { return .rejected(nil, isFrame: false) }
            remember(&refused, (id, error.message))
            return .rejected("scan-start of scan \(id) refused, and its frames will be: \(error)", isFrame: false)
        }
        return .rejected("\(error)", isFrame: isFrame)
    }

    private func remember<T>(_ list: inout [T], _ value: T) {
        list.append(value)
        if list.count > Self.memory { list.removeFirst() }
    }

    private func scanStart(_ start: ScanStart, parts: [Data], now: UInt64) -> [ReceiverEvent] {
        if open?.start.scanID == start.scanID { return [] }   // a repetition for late joiners
        if ended.contains(start.scanID) { return [.rejected("scan-start for scan \(start.scanID), which has ended", isFrame: false)] }
        var events: [ReceiverEvent] = []
        if let current = open {
            events.append(close(current.start, complete: false, status: "incomplete: scan \(start.scanID) started before scan-end", framesSent: nil))
        }
        open = (start, [], now)
        if start.repeatIndex == 0 { sequenceMayRestart = true }
        events.append(.scanStarted(start, parts: parts))
        // Frames that came before this scan-start, in the order they were sent.
        let waiting = held.filter { $0.header.scanID == start.scanID }.sorted { $0.header.sequence < $1.header.sequence }
        held.removeAll { $0.header.scanID == start.scanID }
        heldBytes = held.reduce(0) { $0 + $1.payload.count }
        for entry in waiting { events += frame(entry.header, payload: entry.payload, parts: entry.parts) }
        return events
    }

    private func frame(_ header: FrameHeader, payload: Data, parts: [Data]) -> [ReceiverEvent] {
        guard let current = open, current.start.scanID == header.scanID else {
            if ended.contains(header.scanID) { return [.rejected("frame \(header.frame) of scan \(header.scanID), which has ended", isFrame: true)] }
            if refused.contains(where: { $0.scanID == header.scanID }) { return [.rejected(nil, isFrame: true)] }
            held.append((header, payload, parts))
            heldBytes += payload.count
            var dropped = 0
            while held.count > Self.maximumHeldFrames || heldBytes > Self.maximumHeldBytes {
                heldBytes -= held.removeFirst().payload.count
                dropped += 1
            }
            return dropped > 0 ? [.dropped(count: dropped)] : []
        }
        let start = current.start
        guard header.sampleType == start.sampleType, header.shape == start.frameShape else {
            return [.rejected("frame \(header.frame) of scan \(header.scanID): \(header.sampleType.rawValue) \(header.shape), "
                              + "the scan-start says \(start.sampleType.rawValue) \(start.frameShape)", isFrame: true)]
        }
        var events: [ReceiverEvent] = []
        if let last = lastSequence {
            let jump = header.sequence > last ? header.sequence - last : last - header.sequence
            if jump > StreamLimits.maximumSequenceJump {
                events.append(.resynchronized(from: last, to: header.sequence))
            } else if header.sequence <= last && !sequenceMayRestart {
                return [.rejected("frame \(header.frame) of scan \(header.scanID): sequence \(header.sequence) after \(last) (duplicate or out of order)", isFrame: true)]
            } else if header.sequence > last + 1 {
                events.append(.gap(after: last, count: header.sequence - last - 1))
            }
        }
        guard !current.frames.contains(header.frame) else {
            return [.rejected("frame \(header.frame) of scan \(header.scanID) arrived twice (sequence \(header.sequence))", isFrame: true)]
        }
        open?.frames.insert(header.frame)
        lastSequence = header.sequence
        sequenceMayRestart = false
        events.append(.frame(header, payload: payload, parts: parts))
        return events
    }

    private func scanEnd(_ end: ScanEnd) -> [ReceiverEvent] {
        guard let current = open, current.start.scanID == end.scanID else {
            return [.rejected("scan-end for scan \(end.scanID), which is not open", isFrame: false)]
        }
        return [close(current.start, complete: end.status == .complete, status: end.status.rawValue, framesSent: end.framesSent)]
    }

    private func close(_ start: ScanStart, complete: Bool, status: String, framesSent: Int?) -> ReceiverEvent {
        let received = open?.frames ?? []
        let expected = max(framesSent ?? start.framesPlanned, (received.max() ?? -1) + 1)
        let missing = MissingFrames.ranges(received: received, expected: expected)
        open = nil
        remember(&ended, start.scanID)
        return .scanClosed(ScanClosure(scanID: start.scanID, complete: complete, status: status, missing: missing))
    }
}
