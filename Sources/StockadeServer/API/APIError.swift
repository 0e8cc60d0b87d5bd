import Hummingbird
import StockadeProtocol

/// An error answered as `{"error": {"code": "...", "message": "..."}}` with its HTTP status.
/// Messages say what was wrong and what to do.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// Seconds, sent as Retry-After.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var jsonValue: JSONValue { .object(["error": .object(["code": .string(code), "message": .string(message)])]) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var r = JSONResponse.make(jsonValue, status: status)
        if let retryAfter { r.headers[.retryAfter] = String(retryAfter) }
        return r
    }

    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(.badRequest, code, message) }
    static func unprocessable(_ code: String, _ message: String) -> APIError { APIError(.unprocessableContent, code, message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
}
