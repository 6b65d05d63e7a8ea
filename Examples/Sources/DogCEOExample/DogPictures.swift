public import Foundation

#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif

/// A source of random dog pictures.
public protocol DogPictureSource: Sendable {
    /// Fetches the address of a random dog picture.
    ///
    /// - Returns: The picture's URL.
    /// - Throws: When the source cannot be reached or answers something unexpected.
    func randomPicture() async throws -> URL
}

/// Why the Dog CEO API could not give a picture.
public enum DogCEOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The base URL is not a valid absolute URL.
    case invalidBaseURL(String)
    /// The API could not be reached in time (no route, no DNS, a timeout); the text says why.
    case unreachable(String)
    /// The API answered with a status other than 200.
    case httpStatus(Int)
    /// The API's answer is not `{"message": "<url>", "status": "success"}`.
    case unexpectedAnswer(String)

    /// One line for logs.
    public var description: String {
        switch self {
        case .invalidBaseURL(let text): "invalid Dog API base URL: \(text)"
        case .unreachable(let reason): "the Dog API could not be reached: \(reason)"
        case .httpStatus(let status): "the Dog API answered HTTP \(status)"
        case .unexpectedAnswer(let text): "unexpected Dog API answer: \(text)"
        }
    }
}

/// The [Dog CEO API](https://dog.ceo/dog-api/) client: `GET {baseURL}/breeds/image/random`,
/// which answers `{"message": "https://images.dog.ceo/breeds/…/….jpg", "status": "success"}`.
///
/// ```swift
/// let dogs = try DogCEOClient()                                     // https://dog.ceo/api
/// let stub = try DogCEOClient(baseURLString: "http://127.0.0.1:9000/api")  // a local stand-in
/// let picture = try await dogs.randomPicture()
/// ```
public struct DogCEOClient: DogPictureSource {
    /// The public API's base URL, `https://dog.ceo/api`.
    public static let defaultBaseURLString = "https://dog.ceo/api"

    /// The API's base URL; the request goes to `{baseURL}/breeds/image/random`.
    public let baseURL: URL
    /// The time allowed for one request.
    public var timeout: Duration
    private let session: URLSession

    /// Creates a client for an API at `baseURL`.
    ///
    /// - Parameters:
    ///   - baseURL: The base URL.
    ///   - timeout: The time allowed for one request; default 10 s.
    ///   - session: The session to use; default `URLSession.shared`.
    public init(baseURL: URL, timeout: Duration = .seconds(10), session: URLSession = .shared) {
        self.baseURL = baseURL
        self.timeout = timeout
        self.session = session
    }

    /// Creates a client from a base URL's text, such as the `DOG_API_URL` environment variable.
    ///
    /// - Parameters:
    ///   - baseURLString: The base URL; default ``defaultBaseURLString``.
    ///   - timeout: The time allowed for one request; default 10 s.
    /// - Throws: ``DogCEOError/invalidBaseURL(_:)`` when the text is not an `http` or `https` URL.
    public init(baseURLString: String = defaultBaseURLString, timeout: Duration = .seconds(10)) throws(DogCEOError) {
        guard let url = URL(string: baseURLString), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else { throw .invalidBaseURL(baseURLString) }
        self.init(baseURL: url, timeout: timeout)
    }

    /// The random-picture endpoint, `{baseURL}/breeds/image/random`.
    public var randomPictureURL: URL {
        baseURL.appendingPathComponent("breeds").appendingPathComponent("image").appendingPathComponent("random")
    }

    /// Fetches the address of a random dog picture.
    ///
    /// - Returns: The picture's URL, from the answer's `message`.
    /// - Throws: ``DogCEOError``: ``DogCEOError/unreachable(_:)`` when the API cannot be reached
    ///   in time, ``DogCEOError/httpStatus(_:)`` for a status other than 200, and
    ///   ``DogCEOError/unexpectedAnswer(_:)`` for a body that is not the expected JSON.
    public func randomPicture() async throws(DogCEOError) -> URL {
        var request = URLRequest(url: randomPictureURL)
        request.timeoutInterval = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw .unreachable((error as? URLError)?.localizedDescription ?? "\(error)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else { throw .httpStatus(status) }
        let answer: Answer
        do {
            answer = try JSONDecoder().decode(Answer.self, from: data)
        } catch {
            throw .unexpectedAnswer(String(decoding: data.prefix(200), as: UTF8.self))
        }
        guard answer.status == "success", let picture = URL(string: answer.message), picture.scheme != nil else {
            throw .unexpectedAnswer("status \(answer.status), message \(answer.message)")
        }
        return picture
    }

    /// The API's answer.
    private struct Answer: Decodable {
        var message: String
        var status: String
    }
}
