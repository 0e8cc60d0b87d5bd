import Hummingbird

/// Bearer-token authentication: every request but /health must carry `Authorization: Bearer
/// <token>`, compared in constant time. Without a configured token it lets everything through
/// (the daemon then only listens on loopback; see DaemonConfig.validate).
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, request.uri.path != "/health" else { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.constantTimeEqual(Array(header.utf8.dropFirst(prefix.utf8.count)), token) else {
            var response = try APIError(.unauthorized, "unauthorized",
                                        "missing or wrong API token: send Authorization: Bearer <STOCKADE_API_TOKEN>")
                .response(from: request, context: context)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }

    /// Compares every byte whatever the first difference, so timing says nothing about the token.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }
}
