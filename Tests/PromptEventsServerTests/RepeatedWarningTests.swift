import Testing

@testable import PromptEventsServer

struct RepeatedWarningTests {
    @Test func repeatsAreFoldedIntoOneLinePerInterval() {
        var warning = RepeatedWarning(interval: .seconds(10))
        let start = ContinuousClock.now
        var lines: [String?] = []
        for second in [0, 1, 2, 9, 10, 11, 30] {
            lines.append(warning.report("disk full", now: start + .seconds(second)))
        }
        #expect(
            lines == [
                "disk full", nil, nil, nil,
                "disk full (and 3 more since the last report)", nil,
                "disk full (and 1 more since the last report)",
            ]
        )
    }
}
