import Glibc
import StockadeProtocol
import Testing

/// A curl-style multipart/form-data body with one file part.
func multipartBody(filename: String, data: [UInt8], field: String = "file",
                   extraField: (String, String)? = ("note", "hello")) -> (contentType: String, body: [UInt8]) {
    let boundary = "------------------------d74496d66958873e"
    var body: [UInt8] = []
    if let (name, value) = extraField {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }
    body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
    body += data
    body += Array("\r\n--\(boundary)--\r\n".utf8)
    return ("multipart/form-data; boundary=\(boundary)", body)
}

extension Daemon {
    func uploadRaw(_ user: String, name: String, _ data: [UInt8], contentType: String = "application/octet-stream") async throws -> HTTPResult {
        try await request(.POST, "/v1/users/\(user)/files?name=\(name)", body: data, headers: [("Content-Type", contentType)])
    }

    func uploadMultipart(_ user: String, filename: String, _ data: [UInt8], query: String = "") async throws -> HTTPResult {
        let m = multipartBody(filename: filename, data: data)
        return try await request(.POST, "/v1/users/\(user)/files\(query)", body: m.body, headers: [("Content-Type", m.contentType)])
    }

    /// The `files` array of a listing, as name → size.
    func listing(_ user: String, _ kind: String = "files") async throws -> [String: Int64] {
        let r = try await get("/v1/users/\(user)/\(kind)")
        try #require(r.status == 200, "list \(kind) of \(user): \(r.status) \(r.text)")
        var out: [String: Int64] = [:]
        for f in r.json?["files"]?.arrayValue ?? [] {
            if let n = f["name"]?.stringValue { out[n] = f["size"]?.intValue ?? -1 }
        }
        return out
    }

    /// Run shell code for `user` and return stdout.
    func sh(_ user: String, _ code: String) async throws -> JSONValue {
        try await execute(["user_id": .string(user), "language": "shell", "code": .string(code)])
    }
}

func exists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

@Suite("Daemon files", .enabled(if: isRoot, needsRoot))
struct FileTests {
    @Test("upload (raw and multipart), list, download, read-only inside the sandbox, delete")
    func uploadListDownloadDelete() async throws {
        try await withDaemon { d in
            let csv = Array("id,name\n1,alice\n2,bob\n".utf8)
            let up = try await d.uploadRaw("fu", name: "data.csv", csv, contentType: "text/csv")
            #expect(up.status == 201, "\(up.text)")
            #expect(up.json?["name"] == "data.csv")
            #expect(up.json?["size"] == .int(Int64(csv.count)))
            #expect(up.json?["path"] == "/uploads/data.csv")

            var blob: [UInt8] = []
            for i in 0..<4096 { blob.append(UInt8(truncatingIfNeeded: i &* 7 &+ i / 256)) }
            let bin = try await d.uploadRaw("fu", name: "blob.png", blob, contentType: "image/png")
            #expect(bin.status == 201, "\(bin.text)")

            let multiData = Array("multipart payload\r\n--not-a-boundary\r\nline 3\n".utf8)
            let multi = try await d.uploadMultipart("fu", filename: "multi.txt", multiData)
            #expect(multi.status == 201, "\(multi.text)")
            #expect(multi.json?["name"] == "multi.txt", "the part's filename names the file: \(multi.text)")
            #expect(multi.json?["size"] == .int(Int64(multiData.count)), "\(multi.text)")
            let renamed = try await d.uploadMultipart("fu", filename: "ignored.txt", Array("renamed".utf8), query: "?name=notes.md")
            #expect(renamed.status == 201, "\(renamed.text)")
            #expect(renamed.json?["name"] == "notes.md")

            // The list: names, sizes and times.
            let list = try await d.get("/v1/users/fu/files")
            #expect(list.status == 200)
            let files = list.json?["files"]?.arrayValue ?? []
            let byName = Dictionary(uniqueKeysWithValues: files.compactMap { f in f["name"]?.stringValue.map { ($0, f) } })
            #expect(Set(byName.keys) == ["data.csv", "blob.png", "multi.txt", "notes.md"], "\(list.text)")
            #expect(byName["data.csv"]?["size"] == .int(Int64(csv.count)))
            #expect(byName["blob.png"]?["size"] == 4096)
            #expect(byName["multi.txt"]?["size"] == .int(Int64(multiData.count)))
            #expect(files.allSatisfy { isISOTimestamp($0["modified_at"]) }, "\(list.text)")

            // Downloads give the same bytes.
            let dl = try await d.get("/v1/users/fu/files/data.csv")
            #expect(dl.status == 200)
            #expect(dl.body == csv)
            let dlBin = try await d.get("/v1/users/fu/files/blob.png")
            #expect(dlBin.body == blob, "binary download differs (\(dlBin.body.count) bytes)")
            let dlMulti = try await d.get("/v1/users/fu/files/multi.txt")
            #expect(dlMulti.body == multiData)
            #expect(try await d.get("/v1/users/fu/files/notes.md").body == Array("renamed".utf8))
            let missing = try await d.get("/v1/users/fu/files/nothing.txt")
            ErrorTests.expectError(missing, 404, "not_found", "download of a missing file")

            // Inside the user's sandbox: readable at /uploads/data.csv, not writable.
            let inside = try await d.sh("fu", """
                cat /uploads/data.csv
                if echo x >> /uploads/data.csv 2>/dev/null; then echo WROTE; else echo REFUSED-WRITE; fi
                if rm -f /uploads/data.csv 2>/dev/null && [ ! -e /uploads/data.csv ]; then echo REMOVED; fi
                if touch /uploads/new.txt 2>/dev/null; then echo CREATED; else echo REFUSED-CREATE; fi
                ls /uploads | sort | tr '\\n' ' '
                """)
            let out = inside["stdout"]?.stringValue ?? ""
            #expect(out.hasPrefix("id,name\n1,alice\n2,bob\n"), "\(inside)")
            #expect(out.contains("REFUSED-WRITE") && !out.contains("WROTE"), "\(inside)")
            #expect(!out.contains("REMOVED"), "\(inside)")
            #expect(out.contains("REFUSED-CREATE"), "\(inside)")
            #expect(out.contains("blob.png data.csv multi.txt notes.md"), "\(inside)")
            #expect(try await d.get("/v1/users/fu/files/data.csv").body == csv, "the sandbox changed the upload")

            // Delete.
            let del = try await d.delete("/v1/users/fu/files/data.csv")
            #expect(del.status == 204, "\(del.status) \(del.text)")
            ErrorTests.expectError(try await d.get("/v1/users/fu/files/data.csv"), 404, "not_found", "download after delete")
            #expect(try await d.listing("fu")["data.csv"] == nil)
            let afterDelete = try await d.sh("fu", "ls /uploads | tr '\\n' ' '; cat /uploads/data.csv 2>/dev/null || echo GONE")
            #expect(afterDelete["stdout"]?.stringValue?.contains("GONE") == true, "\(afterDelete)")
            ErrorTests.expectError(try await d.delete("/v1/users/fu/files/data.csv"), 404, "not_found", "second delete")
        }
    }

    @Test("a file whose name needs percent-encoding in the URL (a space, non-ASCII) can be downloaded and deleted")
    func percentEncodedNames() async throws {
        try await withDaemon { d in
            // Valid names by the daemon's own rules (FileName): one component, no '/', no leading '.'.
            for (encoded, name) in [("my%20report.txt", "my report.txt"), ("r%C3%A9sum%C3%A9.txt", "résumé.txt")] {
                let up = try await d.uploadRaw("pe", name: encoded, Array("content of \(name)".utf8))
                #expect(up.status == 201, "\(up.text)")
                #expect(up.json?["name"] == .string(name), "the query parameter is decoded: \(up.text)")
                #expect(try await d.listing("pe")[name] != nil)
                let dl = try await d.get("/v1/users/pe/files/\(encoded)")
                #expect(dl.status == 200, "GET /v1/users/pe/files/\(encoded) for the listed '\(name)': \(dl.status) \(dl.text)")
                #expect(dl.text == "content of \(name)")
                let del = try await d.delete("/v1/users/pe/files/\(encoded)")
                #expect(del.status == 204, "DELETE /v1/users/pe/files/\(encoded) for the listed '\(name)': \(del.status) \(del.text)")
            }
        }
    }

    @Test("refused uploads: ../ names, absolute paths, disallowed extensions, files over --max-upload")
    func refusedUploads() async throws {
        try await withDaemon(["--max-upload", "4096"]) { d in
            let data = Array("evil".utf8)
            for (name, what) in [("..%2Fevil.txt", "../evil.txt"), ("..%2F..%2F..%2Fevil.txt", "../../../evil.txt"),
                                 ("%2Ftmp%2Fstockade-evil.txt", "/tmp/stockade-evil.txt"), ("sub%2Fevil.txt", "sub/evil.txt"),
                                 ("evil%00.txt", "NUL in the name"), (".hidden.txt", "a leading dot")] {
                let r = try await d.uploadRaw("ru", name: name, data)
                ErrorTests.expectError(r, 400, "bad_file_name", "upload named \(what)")
            }
            ErrorTests.expectError(try await d.uploadRaw("ru", name: "", data), 400, "bad_file_name", "an empty name")
            ErrorTests.expectError(try await d.request(.POST, "/v1/users/ru/files", body: data, headers: [("Content-Type", "text/plain")]),
                                   400, "bad_file_name", "no name at all")
            // "." and ".." fail the extension check first (422) or the name check (400): refused either way.
            for name in [".", ".."] {
                let r = try await d.uploadRaw("ru", name: name, data)
                #expect(r.status == 400 || r.status == 422, "upload named \(name): \(r.status) \(r.text)")
                #expect(r.isErrorShape)
            }
            let multi = try await d.uploadMultipart("ru", filename: "../../evil.txt", data)
            ErrorTests.expectError(multi, 400, "bad_file_name", "multipart filename ../../evil.txt")
            let multiAbs = try await d.uploadMultipart("ru", filename: "/tmp/stockade-evil.txt", data)
            ErrorTests.expectError(multiAbs, 400, "bad_file_name", "multipart filename /tmp/stockade-evil.txt")
            // None of them landed anywhere.
            #expect(try await d.listing("ru").isEmpty)
            for path in [d.dataDir + "/evil.txt", d.dataDir + "/users/evil.txt", d.dataDir + "/users/ru/evil.txt",
                         "/tmp/stockade-evil.txt", "/evil.txt"] {
                #expect(!exists(path), "\(path) was written")
            }

            for (name, what) in [("evil.exe", ".exe"), ("evil.sh", ".sh"), ("noextension", "no extension"), ("evil.txt.exe", ".txt.exe")] {
                let r = try await d.uploadRaw("ru", name: name, data)
                ErrorTests.expectError(r, 422, "extension_not_allowed", "upload \(what)")
            }
            ErrorTests.expectError(try await d.uploadMultipart("ru", filename: "run.exe", data), 422, "extension_not_allowed", "multipart .exe")
            // Case does not matter for allowed ones.
            #expect(try await d.uploadRaw("ru", name: "UPPER.TXT", data).status == 201)

            let exact = try await d.uploadRaw("ru", name: "exact.txt", [UInt8](repeating: 0x61, count: 4096))
            #expect(exact.status == 201, "exactly the limit is fine: \(exact.text)")
            let over = try await d.uploadRaw("ru", name: "big.txt", [UInt8](repeating: 0x61, count: 5000))
            ErrorTests.expectError(over, 413, "file_too_large", "5000 bytes over a 4096 limit")
            let overMulti = try await d.uploadMultipart("ru", filename: "bigm.txt", [UInt8](repeating: 0x62, count: 5000))
            ErrorTests.expectError(overMulti, 413, "file_too_large", "multipart 5000 bytes over a 4096 limit")
            let way = try await d.uploadRaw("ru", name: "huge.txt", [UInt8](repeating: 0x61, count: 1 << 20))
            ErrorTests.expectError(way, 413, "file_too_large", "1 MiB over a 4096 limit")
            let names = try await d.listing("ru")
            #expect(Set(names.keys) == ["UPPER.TXT", "exact.txt"], "\(names)")

            // Downloads and deletes by a path that climbs out are refused too.
            for path in ["/v1/users/ru/files/..%2F..%2F..%2Fstockade.sqlite", "/v1/users/ru/files/..%2Fuploads%2Fexact.txt",
                         "/v1/users/ru/outputs/..%2Fuploads%2Fexact.txt", "/v1/users/ru/files/%2Fetc%2Fpasswd"] {
                let r = try await d.get(path)
                #expect(r.status >= 400 && r.status < 500, "GET \(path): \(r.status)")
                #expect(!r.text.contains("root:x:0:0"), "GET \(path) leaked /etc/passwd")
                #expect(!r.text.hasPrefix("SQLite format"), "GET \(path) leaked the database")
            }
            let delOut = try await d.delete("/v1/users/ru/files/..%2F..%2F..%2Fstockade.sqlite")
            #expect(delOut.status >= 400 && delOut.status < 500, "\(delOut.status)")
            #expect(exists(d.dataDir + "/stockade.sqlite"))
            ErrorTests.expectError(try await d.get("/v1/users/..%2F..%2Fetc/files"), 400, "bad_user_id", "user ../../etc")
        }
    }

    @Test("outputs: a regular file is listed, downloadable and in the execution's files; a planted symlink is refused")
    func outputs() async throws {
        try await withDaemon { d in
            let made = try await d.sh("ou", "printf 'report-body\\n' > /outputs/report.txt; echo ok")
            #expect(made["stdout"] == "ok\n", "\(made)")
            let files = made["files"]?.arrayValue ?? []
            let report = files.first { $0["path"]?.stringValue?.hasSuffix("report.txt") == true }
            #expect(report != nil, "the execution's files: \(String(describing: made["files"]))")
            #expect(report?["size"] == 12)

            let list = try await d.get("/v1/users/ou/outputs")
            #expect(list.status == 200)
            let entry = (list.json?["files"]?.arrayValue ?? []).first { $0["name"] == "report.txt" }
            #expect(entry?["size"] == 12, "\(list.text)")
            #expect(isISOTimestamp(entry?["modified_at"]))
            let dl = try await d.get("/v1/users/ou/outputs/report.txt")
            #expect(dl.status == 200)
            #expect(dl.text == "report-body\n")
            // Outputs and uploads are separate.
            ErrorTests.expectError(try await d.get("/v1/users/ou/files/report.txt"), 404, "not_found", "an output read as an upload")

            // The sandbox plants symlinks in /outputs: they must not be followed on the host.
            let shadow = Sys.readFile("/etc/shadow") ?? []
            let planted = try await d.sh("ou", """
                ln -s /etc/shadow /outputs/leak.txt
                ln -s /etc/passwd /outputs/passwd.txt
                ln -s ../../../stockade.sqlite /outputs/db.txt
                mkfifo /outputs/fifo.txt 2>/dev/null
                ls /outputs | sort | tr '\\n' ' '
                """)
            #expect(planted["stdout"]?.stringValue?.contains("leak.txt") == true, "\(planted)")
            let leak = try await d.get("/v1/users/ou/outputs/leak.txt")
            ErrorTests.expectError(leak, 403, "refused_file", "GET of a symlink to /etc/shadow")
            #expect(!shadow.isEmpty && !leak.text.contains(String(decoding: shadow.prefix(20), as: UTF8.self)), "the body holds /etc/shadow")
            #expect(!leak.text.contains("root:"), "\(leak.text)")
            let passwd = try await d.get("/v1/users/ou/outputs/passwd.txt")
            ErrorTests.expectError(passwd, 403, "refused_file", "GET of a symlink to /etc/passwd")
            #expect(!passwd.text.contains("root:x:0:0"))
            let db = try await d.get("/v1/users/ou/outputs/db.txt")
            ErrorTests.expectError(db, 403, "refused_file", "GET of a relative symlink to the database")
            #expect(!db.text.hasPrefix("SQLite"))
            let fifo = try await d.get("/v1/users/ou/outputs/fifo.txt")
            #expect(fifo.status == 403 || fifo.status == 404, "a FIFO: \(fifo.status) \(fifo.text)")
            // The listing does not present the links as files with the targets' sizes.
            let after = try await d.listing("ou", "outputs")
            #expect(after["report.txt"] == 12)
            if let size = after["leak.txt"] { #expect(size != Int64(shadow.count), "the listing gives /etc/shadow's size") }
        }
    }

    @Test("users are isolated: B sees nothing of A's uploads, by any path")
    func usersAreIsolated() async throws {
        try await withDaemon { d in
            let secret = "A-SECRET-CONTENT-7f3a"
            #expect(try await d.uploadRaw("usera", name: "secret.txt", Array(secret.utf8)).status == 201)
            let a = try await d.sh("usera", "ls /uploads; cat /uploads/secret.txt")
            #expect(a["stdout"] == .string("secret.txt\n" + secret), "A sees its own upload: \(a)")

            // B's sandbox: its /uploads is empty; A's host path and a search find nothing.
            let aHost = d.dataDir + "/users/usera/uploads/secret.txt"
            let b = try await d.sh("userb", """
                echo "LS:[$(ls -A /uploads)]"
                cat /uploads/secret.txt 2>/dev/null && echo READ-UPLOADS
                cat '\(aHost)' 2>/dev/null && echo READ-HOST-PATH
                cat ../usera/uploads/secret.txt /outputs/../../usera/uploads/secret.txt 2>/dev/null && echo READ-RELATIVE
                S="A-SECRET"; S="$S-CONTENT"
                grep -rl "$S" / --exclude-dir=proc --exclude-dir=sys --exclude-dir=usr --exclude-dir=dev 2>/dev/null && echo FOUND-CONTENT
                find / \\( -path /proc -o -path /sys -o -path /usr \\) -prune -o -name secret.txt -print 2>/dev/null
                echo END
                """)
            let out = b["stdout"]?.stringValue ?? ""
            #expect(out == "LS:[]\nEND\n", "B's sandbox: \(b)")

            // B's API: nothing listed, nothing downloadable by any path.
            #expect(try await d.listing("userb").isEmpty)
            for path in ["/v1/users/userb/files/secret.txt", "/v1/users/userb/files/..%2F..%2Fusera%2Fuploads%2Fsecret.txt",
                         "/v1/users/userb/outputs/..%2F..%2Fusera%2Fuploads%2Fsecret.txt",
                         "/v1/users/userb/files/..%2Fusera%2Fuploads%2Fsecret.txt"] {
                let r = try await d.get(path)
                #expect(r.status >= 400 && r.status < 500, "GET \(path): \(r.status)")
                #expect(!r.text.contains(secret), "GET \(path) leaked A's file")
            }
            // B plants links to A's file in its outputs: the daemon must not follow them.
            let planted = try await d.sh("userb", """
                ln -s '\(aHost)' /outputs/steal.txt
                ln -s ../../usera/uploads/secret.txt /outputs/steal2.txt
                echo planted
                """)
            #expect(planted["stdout"] == "planted\n")
            for name in ["steal.txt", "steal2.txt"] {
                let r = try await d.get("/v1/users/userb/outputs/\(name)")
                #expect(r.status == 403, "GET B's outputs/\(name): \(r.status) \(r.text)")
                #expect(!r.text.contains(secret), "B read A's file through outputs/\(name)")
            }
            // A's file is unchanged and still A's.
            #expect(try await d.get("/v1/users/usera/files/secret.txt").text == secret)
            // A and B run as different host uids.
            var sa = stat(), sb = stat()
            #expect(stat(d.dataDir + "/users/usera/uploads", &sa) == 0 && stat(d.dataDir + "/users/userb/uploads", &sb) == 0)
            #expect(sa.st_uid != sb.st_uid && sa.st_uid != 0 && sb.st_uid != 0, "A uid \(sa.st_uid), B uid \(sb.st_uid)")
        }
    }
}
