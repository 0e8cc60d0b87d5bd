#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import NIOCore
import StockadeProtocol

/// JSON in and out with the project's own codec (strict, Foundation-free, a few µs per message).
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        JSONWriter.write(value, into: &bytes)
        bytes.append(0x0a)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The request body as a JSON object: 413 over `limit`, 400 when it is not JSON or not an object.
    static func object(from request: inout Request, limit: Int) async throws -> JSONObject {
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is over the \(limit) byte limit: send less (code, stdin and event count) or raise STOCKADE_MAX_BODY")
        }
        let value: JSONValue
        do {
            value = try buffer.readableBytesView.withContiguousStorageIfAvailable { try JSONParser.parse(UnsafeRawBufferPointer($0)) }
                ?? JSONParser.parse(Array(buffer.readableBytesView))
        } catch let error as JSONError {
            throw APIError.badRequest("malformed_json", "the body is not valid JSON: \(error.description)")
        }
        guard let object = value.objectValue else {
            throw APIError.badRequest("malformed_json", "the body must be a JSON object")
        }
        return object
    }
}

/// ISO-8601 UTC times with milliseconds, without Foundation.
enum Timestamp {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func iso(_ t: Double) -> String {
        var secs = time_t(t.rounded(.down))
        var tmv = tm()
        gmtime_r(&secs, &tmv)
        var buf = [CChar](repeating: 0, count: 32)
        strftime(&buf, 32, "%Y-%m-%dT%H:%M:%S", &tmv)
        let ms = Int((t - t.rounded(.down)) * 1000)
        let base = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return base + "." + String(repeating: "0", count: 3 - String(ms).count) + String(ms) + "Z"
    }

    static func json(_ t: Double?) -> JSONValue { t.map { .string(iso($0)) } ?? .null }
}
