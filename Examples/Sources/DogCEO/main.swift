import DogCEOExample
import Foundation
import PromptEvents
import PromptEventsServer

// The Prompt.io guide's next steps: a random dog picture as the avatar of every new customer.
//
//   PROMPT_LISTEN_HUB_SECRET=s3cr3t swift run --package-path Examples DogCEO
//   PROMPT_LISTEN_HUB_SECRET=s3cr3t swift run prompt-listen send customer/added --to http://127.0.0.1:8082
//
// DOG_API_URL replaces https://dog.ceo/api (for a local stand-in); JOURNAL_DIR the journal's
// place (default .prompt-listen/dogceo-journal); PORT the port (default 8082).

let environment = ProcessInfo.processInfo.environment
guard let secret = environment["PROMPT_LISTEN_HUB_SECRET"], !secret.isEmpty else {
    FileHandle.standardError.write(Data("Set PROMPT_LISTEN_HUB_SECRET to the endpoint's signing secret.\n".utf8))
    exit(2)
}

let dogs: DogCEOClient
do {
    dogs = try DogCEOClient(baseURLString: environment["DOG_API_URL"] ?? DogCEOClient.defaultBaseURLString)
} catch {
    FileHandle.standardError.write(Data("DOG_API_URL: \(error)\n".utf8))
    exit(2)
}
let listener = try DogAvatars(pictures: dogs, crm: PrintingCRM()).makeListener(
    hubSecret: Secret(secret),
    port: environment["PORT"].flatMap { Int($0) } ?? 8082,
    journalDirectory: environment["JOURNAL_DIR"] ?? ".prompt-listen/dogceo-journal",
    observer: { event in
        if let (address, _) = event.listening {
            print("listening on \(address.url); dog pictures from \(dogs.baseURL)")
        } else if let record = event.request, record.status >= 400 {
            print("\(record.status) \(record.method) \(record.path) \(record.reason ?? "")")
        } else if let message = event.warning {
            print("warning: \(message)")
        }
    }
)

// Ctrl-C or SIGTERM: drain and stop; unfinished events resume at the next start.
await listener.run(stoppingOn: [SIGINT, SIGTERM])
