// ThreadSanitizer false positives from Synchronization.Mutex on Linux, without any of our code.
//
//     swiftc -sanitize=thread -O scripts/tsan-mutex-repro.swift -o /tmp/tsan-mutex-repro && /tmp/tsan-mutex-repro
//
// Prints several "WARNING: ThreadSanitizer: Swift access race" / "data race" reports, then 64,
// on Swift 6.3.1: under contention Mutex takes its slow path (`_lockSlow`, a futex wait in the
// uninstrumented runtime), so TSan never sees that acquire and calls the next critical section a
// race with the previous one. That is why PromptEvents locks with `Locked` (a pthread mutex,
// which TSan intercepts) instead of Mutex (Sources/PromptEvents/Core/Locked.swift).
import Dispatch
import Synchronization

final class Box: Sendable { let counts = Mutex<[Int: Int]>([:]) }
let box = Box()
DispatchQueue.concurrentPerform(iterations: 4) { thread in
    for index in 0..<200_000 { box.counts.withLock { $0[index % 64, default: 0] += thread } }
}
print(box.counts.withLock { $0.count })
