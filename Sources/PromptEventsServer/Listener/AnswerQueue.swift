#if os(Linux)
import PromptEvents

/// The answers a connection owes, in request order: pipelined answers leave in the order their
/// requests came (RFC 9112 §9.3.2), whichever is ready first.
///
/// Each request takes a place when its head (or its failure) is known; its answer is ready at
/// once, after the turn's group commit, or after its handlers. ``departReady(closing:_:)``
/// hands out the ready answers at the front, and only those. No I/O: ``ServerConnection`` serialises
/// what it takes.
struct AnswerQueue {
    /// When a place's answer is known.
    enum Answer {
        case ready(WebhookResponse)
        /// After the turn's group commit, unless it fails (a 503) or finds a late duplicate.
        case afterCommit(WebhookResponse)
        /// After-handlers acknowledgement: the dispatcher's outcome, by ticket sequence.
        case afterHandlers
    }

    /// One request's place.
    struct Place {
        let sequence: UInt64
        /// The request's version, for the answer's connection fields (RFC 9112 §9.3).
        let version: HTTPVersion
        /// Whether the request was `HEAD` (the answer then has no body).
        let isHead: Bool
        let startedAt: UInt64
        var record: RequestRecord
        var answer: Answer
    }

    /// An answer leaving the queue.
    struct Departure {
        let place: Place
        let response: WebhookResponse
        /// Whether it is the connection's last answer (it then says `Connection: close`).
        let isLast: Bool
    }

    private var places: [Place] = []
    /// The sequence the next place gets (also the next ticket's).
    private(set) var nextSequence: UInt64 = 0

    /// How many answers are owed.
    var count: Int { places.count }

    /// Whether no answer is owed.
    var isEmpty: Bool { places.isEmpty }

    /// Whether an answer waits for the turn's group commit.
    var awaitsCommit: Bool {
        places.contains {
            if case .afterCommit = $0.answer { return true }
            return false
        }
    }

    /// Takes the next place.
    mutating func reserve(
        version: HTTPVersion,
        isHead: Bool,
        record: RequestRecord,
        answer: Answer,
        since: UInt64
    ) {
        places.append(
            Place(
                sequence: nextSequence,
                version: version,
                isHead: isHead,
                startedAt: since,
                record: record,
                answer: answer
            )
        )
        nextSequence += 1
    }

    /// The group commit is done: each answer waiting for it is ready, as the failure's 503 when
    /// it failed, or as the duplicate answer for a delivery it found to repeat another
    /// instance's (whose id the record then names).
    mutating func commitFinished(_ outcome: CommitOutcome) {
        for index in places.indices {
            guard case .afterCommit(let response) = places[index].answer else { continue }
            if let failure = outcome.failure {
                places[index].answer = .ready(failure)
            } else if let id = places[index].record.deliveryID, let original = outcome.duplicates[id] {
                places[index].record.deliveryID = original
                places[index].record.duplicate = true
                places[index].answer = .ready(outcome.duplicateAnswer)
            } else {
                places[index].answer = .ready(response)
            }
        }
    }

    /// The handlers finished the request with ticket `sequence`; `false` when it is not owed.
    mutating func answer(_ sequence: UInt64, with response: WebhookResponse) -> Bool {
        guard let index = places.firstIndex(where: { $0.sequence == sequence }),
            case .afterHandlers = places[index].answer
        else { return false }
        places[index].answer = .ready(response)
        return true
    }

    /// Every answer still waiting for handlers becomes `response` (shutdown).
    mutating func abandonAwaited(with response: WebhookResponse) {
        for index in places.indices {
            if case .afterHandlers = places[index].answer { places[index].answer = .ready(response) }
        }
    }

    /// Hands `depart` the ready answers at the front, in order, and removes them; with
    /// `closing`, the one that empties the queue is the last. (A closure, not an array: this
    /// runs for every answer, and allocates nothing.)
    mutating func departReady(closing: Bool, _ depart: (Departure) -> Void) {
        var departed = 0
        for place in places {
            guard case .ready(let response) = place.answer else { break }
            depart(Departure(place: place, response: response, isLast: closing && departed == places.count - 1))
            departed += 1
        }
        places.removeFirst(departed)
    }
}
#endif
