import PromptEvents

/// One client connection's state, owned by the event loop thread alone.
final class Connection {
    /// What a connection may ask for: everything, or only health and metrics.
    enum Role {
        case events
        case metricsOnly
    }

    /// One request's place in the response order; pipelined answers leave in request order.
    ///
    /// It carries what the answer's framing depends on (the request's version and method), so
    /// every answer — now, after the group commit, after the handlers — is serialised alike.
    struct Slot {
        let sequence: UInt64
        var bytes: [UInt8]?
        var closeAfter: Bool
        var record: RequestRecord?
        let startedAt: UInt64
        /// The request's HTTP version, for the answer's connection headers (RFC 9112 §9.3).
        let version: HTTPVersion
        /// Whether the request was `HEAD` (the answer then has no body).
        let isHead: Bool
    }

    let fd: Int32
    let generation: UInt64
    let role: Role
    var parser: RequestParser
    /// The head of the request whose body is being read.
    var head: RequestHead?
    /// Whether `head` is for a reserved route (answered once its body, if any, is read).
    var headIsReserved = false
    /// The current head as the receiver admitted it (its checks are not repeated for the body).
    var admittedHead: AdmittedHead?
    /// An event head read while the handlers' backlog was full, or `nil` when not parked.
    ///
    /// It is admitted, and the connection read again, once the backlog is down to half (see
    /// `DeliverySink.shouldPauseReading`).
    var heldHead: RequestHead?
    /// When the current request's first byte arrived (monotonic nanoseconds), or `nil` between requests.
    var requestStartedAt: UInt64?
    /// When bytes last arrived.
    var lastReadAt: UInt64
    var slots: [Slot] = []
    var nextSequence: UInt64 = 0
    var output: [UInt8] = []
    var outputOffset = 0
    /// Whether the connection closes once `output` is sent.
    var closeAfterFlush = false
    /// Whether the connection no longer reads requests (a closing answer was queued).
    var stopReading = false
    /// Whether parsing stopped because too many answers were pending (pipelining back-pressure).
    var pausedForRoom = false
    var interest: UInt32 = 0

    init(fd: Int32, generation: UInt64, role: Role, limits: HTTPLimits, now: UInt64) {
        self.fd = fd
        self.generation = generation
        self.role = role
        self.parser = RequestParser(limits: limits)
        self.lastReadAt = now
    }

    /// Whether nothing is in progress: no partial request, no answer pending or unsent.
    var isIdle: Bool {
        requestStartedAt == nil && slots.isEmpty && outputOffset == output.count
    }

    /// Reserves the next response slot, for the answer to `head` (`nil` when the head is unreadable).
    func reserveSlot(startedAt: UInt64, for head: RequestHead?, closeAfter: Bool) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        slots.append(
            Slot(
                sequence: sequence,
                bytes: nil,
                closeAfter: closeAfter,
                record: nil,
                startedAt: startedAt,
                version: head?.version ?? .http11,
                isHead: head?.method == "HEAD"
            )
        )
        return sequence
    }

    /// Fills a slot; returns false when it no longer exists.
    func fill(_ sequence: UInt64, bytes: [UInt8], closeAfter: Bool, record: RequestRecord?) -> Bool {
        guard let index = slots.firstIndex(where: { $0.sequence == sequence }) else { return false }
        slots[index].bytes = bytes
        slots[index].closeAfter = closeAfter
        slots[index].record = record
        return true
    }

    /// Moves the filled slots at the front into the output buffer, in order; returns their records.
    func moveReadySlotsToOutput() -> [RequestRecord] {
        var records: [RequestRecord] = []
        var ready = 0
        for slot in slots {
            guard let bytes = slot.bytes else { break }
            if outputOffset == output.count {
                output.removeAll(keepingCapacity: true)
                outputOffset = 0
            }
            output.append(contentsOf: bytes)
            if let record = slot.record { records.append(record) }
            ready += 1
            if slot.closeAfter {
                closeAfterFlush = true
                break
            }
        }
        slots.removeFirst(ready)
        return records
    }
}
