import Hummingbird
import MultipartKit
import NIOCore
import Stockade
import StockadeProtocol

extension StockadeAPI {
    /// The user's directory of `kind`, created on first use and owned by the user's host identity.
    func files(_ kind: UserDirectoryKind, user: String) throws -> UserFiles {
        let id: UserID
        do { id = try UserID(user) } catch { throw APIError.badRequest("bad_user_id", error.description) }
        do {
            let identity = try users.identities.identity(for: id)
            try users.directories.ensure(user: id, identity: identity)
            return try users.directories.files(kind, of: id, identity: identity)
        } catch {
            throw Self.fileError(error, name: nil)
        }
    }

    /// POST /v1/users/{user}/files?name=FILE with the raw file as the body, or multipart/form-data
    /// with one file part (its filename is used unless ?name= is given).
    func upload(_ request: Request, user: String) async throws -> Response {
        var request = request
        let target = try files(.uploads, user: user)
        let contentType = request.headers[.contentType] ?? ""
        let limit = config.maxUploadBytes
        let buffer: ByteBuffer
        do {
            // Multipart framing adds a little: allow for it, then check the file itself.
            buffer = try await request.collectBody(upTo: contentType.hasPrefix("multipart/") ? limit + 64 * 1024 : limit)
        } catch {
            throw APIError(.contentTooLarge, "file_too_large", "the upload is over the \(limit) byte limit (STOCKADE_MAX_UPLOAD)")
        }
        var name = request.uri.queryParameters["name"].map(String.init)
        var data: [UInt8]
        if contentType.hasPrefix("multipart/form-data") {
            guard let boundary = Self.boundary(contentType) else {
                throw APIError.badRequest("bad_multipart", "multipart/form-data without a boundary parameter")
            }
            let (filename, bytes) = try Self.firstFilePart(buffer, boundary: boundary)
            data = bytes
            if name == nil { name = filename }
        } else {
            data = Array(buffer.readableBytesView)
        }
        guard data.count <= limit else {
            throw APIError(.contentTooLarge, "file_too_large", "the file is \(data.count) bytes, over the \(limit) byte limit")
        }
        guard let name, !name.isEmpty else {
            throw APIError.badRequest("bad_file_name", "name the file: POST /v1/users/{user}/files?name=report.csv (or a multipart filename)")
        }
        do {
            _ = try FileName(name)
        } catch {
            throw Self.fileError(error, name: name)
        }
        try checkExtension(name)
        do {
            try target.write(name: name, data: data)
        } catch {
            throw Self.fileError(error, name: name)
        }
        return JSONResponse.make(.object(["name": .string(name), "size": .int(Int64(data.count)),
                                          "path": .string(UserDirectories.uploadsInside + "/" + name)]), status: .created)
    }

    func checkExtension(_ name: String) throws {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else {
            throw APIError.unprocessable("extension_not_allowed", "'\(name)' has no extension; allowed: \(config.allowedExtensions.sorted().joined(separator: ", "))")
        }
        let ext = name[name.index(after: dot)...].lowercased()
        guard config.allowedExtensions.contains(ext) else {
            throw APIError.unprocessable("extension_not_allowed", "the extension '.\(ext)' is not allowed; allowed: \(config.allowedExtensions.sorted().joined(separator: ", "))")
        }
    }

    /// GET /v1/users/{user}/files and /outputs
    func list(_ kind: UserDirectoryKind, user: String) throws -> Response {
        let dir = try files(kind, user: user)
        let entries: [UserFiles.Entry]
        do { entries = try dir.list() } catch { throw Self.fileError(error, name: nil) }
        return JSONResponse.make(.object(["user_id": .string(user), "files": .array(entries.map { e in
            .object(["name": .string(e.name), "size": .int(Int64(e.size)),
                     "modified_at": .string(Timestamp.iso(Double(e.modified) + Double(e.modifiedNanoseconds) / 1e9))])
        })]))
    }

    /// GET /v1/users/{user}/files/{name} and /outputs/{name}
    func download(_ kind: UserDirectoryKind, user: String, name: String) throws -> Response {
        let dir = try files(kind, user: user)
        let bytes: [UInt8]
        do { bytes = try dir.read(name: name, maxBytes: 64 << 20) } catch { throw Self.fileError(error, name: name) }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream",
                                               .contentDisposition: "attachment; filename=\"\(name)\""],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// DELETE /v1/users/{user}/files/{name}
    func remove(user: String, name: String) throws -> Response {
        let dir = try files(.uploads, user: user)
        do { try dir.delete(name: name) } catch { throw Self.fileError(error, name: name) }
        return Response(status: .noContent)
    }

    /// A file error as the API answers it: what was wrong, never a host path.
    static func fileError(_ error: any Error, name: String?) -> APIError {
        let shown = name.map { "'\($0)'" } ?? "the file"
        guard let e = error as? UserDataError else { return APIError(.internalServerError, "internal_error", "file operation failed") }
        switch e {
        case let .invalidUserID(_, reason): return .badRequest("bad_user_id", reason)
        case let .invalidFileName(_, reason): return .badRequest("bad_file_name", "\(shown) is not a valid file name: \(reason)")
        case .notFound: return .notFound("\(shown) does not exist")
        case let .refusedFileType(_, kind): return APIError(.forbidden, "refused_file", "\(shown) is a \(kind), not a regular file: refused")
        case .refusedHardLink: return APIError(.forbidden, "refused_file", "\(shown) has several hard links: refused")
        case .escapesDirectory: return APIError(.forbidden, "refused_file", "\(shown) resolves outside the user's directory: refused")
        case let .fileTooLarge(_, size, limit): return APIError(.contentTooLarge, "file_too_large", "\(shown) is \(size) bytes, over \(limit)")
        case let .system(operation, _, errno):
            if errno == .noSpace { return APIError(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), "disk_full", "the disk is full: nothing was written; free space and retry") }
            return APIError(.internalServerError, "io_error", "\(operation) failed: \(errno)")
        default: return APIError(.internalServerError, "internal_error", "file operation failed")
        }
    }

    static func boundary(_ contentType: String) -> String? {
        for part in contentType.split(separator: ";") {
            let p = String(part).trimmingDots()
            if p.hasPrefix("boundary=") {
                var b = String(p.dropFirst("boundary=".count))
                if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
                return b.isEmpty ? nil : b
            }
        }
        return nil
    }

    /// The first part of a multipart body that carries a filename.
    static func firstFilePart(_ body: ByteBuffer, boundary: String) throws -> (String?, [UInt8]) {
        let parser = MultipartParser(boundary: boundary)
        var headers: [(String, String)] = []
        var current: [UInt8] = []
        var found: (String?, [UInt8])?
        parser.onHeader = { name, value in headers.append((name.lowercased(), value)) }
        parser.onBody = { buf in current += buf.readableBytesView }
        parser.onPartComplete = {
            let disposition = headers.first { $0.0 == "content-disposition" }?.1 ?? ""
            if found == nil, let filename = Self.dispositionValue(disposition, "filename") {
                found = (filename, current)
            }
            headers.removeAll()
            current.removeAll()
        }
        do {
            try parser.execute(body)
        } catch {
            throw APIError.badRequest("bad_multipart", "the multipart body could not be parsed: \(error)")
        }
        guard let found else { throw APIError.badRequest("bad_multipart", "the multipart body has no part with a filename") }
        return found
    }

    static func dispositionValue(_ header: String, _ key: String) -> String? {
        for part in header.split(separator: ";") {
            let p = String(part).trimmingDots()
            if p.hasPrefix(key + "=") {
                var v = String(p.dropFirst(key.count + 1))
                if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
                return v
            }
        }
        return nil
    }
}
