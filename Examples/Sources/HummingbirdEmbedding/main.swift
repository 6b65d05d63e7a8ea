import Foundation
import Hummingbird
import HummingbirdExample
import PromptEvents

// PromptEvents' receiver on a route of a Hummingbird 2 application.
//
//   PROMPT_LISTEN_HUB_SECRET=s3cr3t swift run --package-path Examples HummingbirdEmbedding
//   PROMPT_LISTEN_HUB_SECRET=s3cr3t swift run prompt-listen send message/added --to http://127.0.0.1:8080/prompt

let environment = ProcessInfo.processInfo.environment
guard let secret = environment["PROMPT_LISTEN_HUB_SECRET"], !secret.isEmpty else {
    FileHandle.standardError.write(Data("Set PROMPT_LISTEN_HUB_SECRET to the endpoint's signing secret.\n".utf8))
    exit(2)
}
let configuration = PromptAppConfiguration(
    hubSecret: Secret(secret),
    port: environment["PORT"].flatMap { Int($0) } ?? 8080
)
let app = buildApplication(configuration: configuration) { event in
    let text = event.json["message"]?["text"]?.string ?? "(no text)"
    print("message/added for org \(event.orgID.map(String.init) ?? "?"): \(text)")
}
try await app.runService()
