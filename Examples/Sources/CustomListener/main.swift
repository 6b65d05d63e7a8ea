import CustomListenerExample
import Foundation
import PromptEvents
import PromptEventsServer

// A listener of your own on PromptEventsServer's WebhookListener, with two typed handlers.
//
//   PROMPT_LISTEN_HUB_SECRET=s3cr3t swift run --package-path Examples CustomListener
//   PROMPT_LISTEN_HUB_SECRET=s3cr3t swift run prompt-listen send customer/optOut --to http://127.0.0.1:8081

let environment = ProcessInfo.processInfo.environment
guard let secret = environment["PROMPT_LISTEN_HUB_SECRET"], !secret.isEmpty else {
    FileHandle.standardError.write(Data("Set PROMPT_LISTEN_HUB_SECRET to the endpoint's signing secret.\n".utf8))
    exit(2)
}

let handlers = CustomListenerHandlers(
    onMessageAdded: { event in
        let text = event.json["message"]?["text"]?.string ?? "(no text)"
        print("message/added for org \(event.orgID.map(String.init) ?? "?"): \(text)")
    },
    onCustomerOptOut: { event in
        let numbers = event.payload.customer?.phoneNumbers ?? []
        print("customer/optOut for org \(event.orgID.map(String.init) ?? "?"): \(numbers)")
    }
)
let listener = try TwoKindListener.makeListener(
    hubSecret: Secret(secret),
    port: environment["PORT"].flatMap { Int($0) } ?? 8081,
    handlers: handlers
)

// Ctrl-C or SIGTERM: drain and stop.
await listener.run(stoppingOn: [SIGINT, SIGTERM])
